// What the window does with the key's status (the back end asks the
// keychain, within its deadline, and says where the key stands).
import type { KeyStatus } from "./bindings";

/** A cloud request has a key to send. */
export function keyUsable(status: KeyStatus): boolean {
  return status === "stored" || status === "fromEnv";
}

/** The badge's colour: a usable key is fine, anything else wants a look. */
export function keyBadge(status: KeyStatus): string {
  return keyUsable(status) ? "badge badge-ok" : "badge badge-warn";
}
