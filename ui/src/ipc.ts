// The only door from components to the Rust side. It unwraps the generated
// `Result` shape (bindings.ts) so components get values or an `IpcError`, and
// makes the channels that streaming commands take.
import { Channel } from "@tauri-apps/api/core";
import { commands, type AppError, type ErrorCode } from "./bindings";

/**
 * What a generated command resolves to (tauri-specta's default "Result" error
 * mode). Spelled out here: the generated file inlines it and exports no
 * `Result` type.
 */
export type CommandResult<T, E = AppError> = { status: "ok"; data: T } | { status: "error"; error: E };

export { commands };

/** `internal`: the call itself failed (no Tauri runtime, a bug), not the command. */
export type IpcErrorCode = ErrorCode | "internal";

export class IpcError extends Error {
  readonly code: IpcErrorCode;

  constructor(code: IpcErrorCode, message: string) {
    super(message);
    this.name = "IpcError";
    this.code = code;
  }
}

function isAppError(e: unknown): e is AppError {
  return (
    typeof e === "object" &&
    e !== null &&
    typeof (e as { code?: unknown }).code === "string" &&
    typeof (e as { message?: unknown }).message === "string"
  );
}

/** Turns anything a call can throw or return into an `IpcError`. */
export function toIpcError(e: unknown): IpcError {
  if (e instanceof IpcError) return e;
  if (isAppError(e)) return new IpcError(e.code, e.message);
  if (e instanceof Error) return new IpcError("internal", e.message);
  if (typeof e === "string") return new IpcError("internal", e);
  return new IpcError("internal", String(e));
}

/**
 * Awaits a generated command and returns its data, or throws an `IpcError`
 * with the command's `{ code, message }`.
 *
 *     const settings = await call(commands.settingsGet());
 */
export async function call<T, E = AppError>(p: Promise<CommandResult<T, E>>): Promise<T> {
  let r: CommandResult<T, E>;
  try {
    r = await p;
  } catch (e) {
    throw toIpcError(e);
  }
  if (r.status === "error") throw toIpcError(r.error);
  return r.data;
}

/** A channel for a streaming command; `onMessage` gets every event in order. */
export function channel<T>(onMessage: (message: T) => void): Channel<T> {
  return new Channel<T>(onMessage);
}

/** The message to show for an error, whatever was thrown. */
export function errorMessage(e: unknown): string {
  return toIpcError(e).message;
}

/** The settings patch as the generated binding names it (fields may be optional or nullable). */
export type SettingsPatchArg = Parameters<typeof commands.settingsUpdate>[0];
type PatchValues = { [K in keyof SettingsPatchArg]-?: Exclude<SettingsPatchArg[K], undefined> };

/**
 * A full settings patch from the fields that change: every other field is
 * null, which the Rust side reads as "leave as it is".
 */
export function settingsPatch(changes: Partial<PatchValues>): SettingsPatchArg {
  const empty: { [K in keyof PatchValues]: null } = {
    baseUrl: null,
    tier: null,
    policy: null,
    overBudget: null,
    chatModel: null,
    ocrModel: null,
    transcriptionModel: null,
    localChatModel: null,
    localSpeechModel: null,
    modelsFolder: null,
    monthlyLimitEur: null,
    outputTokensPerHour: null,
    outputTokensPerDay: null,
    project: null,
    history: null,
    language: null,
    hotFolder: null,
    hotFolderConfidential: null,
    systemPrompt: null,
    temperature: null,
    maxTokens: null,
  };
  return { ...empty, ...changes };
}
