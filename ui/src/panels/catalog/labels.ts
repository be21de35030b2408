import type { ModelStatus } from "../../bindings";
import { en } from "../../i18n/en";
import type { TFunction } from "../../i18n";

type Cap = keyof typeof en.catalog.cap;
const CAPS = new Set<string>(Object.keys(en.catalog.cap));

/** A capability in the window's language; an unknown one as the provider wrote it. */
export function capabilityLabel(t: TFunction, cap: string): string {
  return CAPS.has(cap) ? t(`catalog.cap.${cap as Cap}`) : cap;
}

export function statusLabel(t: TFunction, s: ModelStatus): string {
  return t(`catalog.status.${s}`);
}
