// Text as the window reads it: numbers as people type them, and text as
// search compares it.

/** "0,7" → "0.7" (a French keyboard's decimal comma). */
export function normaliseDecimal(s: string): string {
  return s.trim().replace(",", ".");
}

/** "100 000" / "100,000" → "100000". */
export function normaliseCount(s: string): string {
  return s.replace(/[\s,._\u202f\u00a0]/g, "");
}

/** The longest system prompt (llmaas_config::MAX_SYSTEM_PROMPT_CHARS). */
export const MAX_SYSTEM_PROMPT_CHARS = 16_000;

// Text as search compares it, for every search of the window (a transcript,
// the conversations): lower case, accents and other marks gone, one
// character for one so that a match's indexes are the original's. The back
// end folds stored conversations by the same rule (`fold` in
// commands/history.rs).
export function fold(s: string): string {
  let out = "";
  for (const c of s) {
    const f = c.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();
    out += f.length === 1 ? f : c;
  }
  return out;
}
