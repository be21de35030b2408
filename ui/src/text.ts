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
