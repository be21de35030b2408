// Numbers for people. Money arrives as integer nano-euros (1 € = 1e9 nanos)
// and is rounded with integer arithmetic (BigInt), never through a float.
import { localeOf, type Language } from "./i18n";

export const NANOS_PER_EURO = 1_000_000_000n;

type LocaleArg = string | Language;
const tag = (l: LocaleArg): string => (l === "fr" || l === "en" ? localeOf(l) : l);

/** Rounds |nanos| half away from zero to `digits` decimals: [sign, whole euros, fraction digits]. */
export function splitEuros(nanos: number | bigint, digits: number): [negative: boolean, whole: bigint, fraction: string] {
  if (!Number.isInteger(digits) || digits < 0 || digits > 9) throw new RangeError(`digits ${digits}`);
  const n = typeof nanos === "bigint" ? nanos : BigInt(Math.trunc(nanos));
  const negative = n < 0n;
  const abs = negative ? -n : n;
  const scale = 10n ** BigInt(9 - digits);
  const rounded = (abs + scale / 2n) / scale;
  const unit = 10n ** BigInt(digits);
  const whole = rounded / unit;
  const fraction = digits === 0 ? "" : (rounded % unit).toString().padStart(digits, "0");
  return [negative && rounded !== 0n, whole, fraction];
}

/** `formatEuros(1_234_560_000_000, 2, "fr")` → "1 234,56 €"; "en" → "€1,234.56". */
export function formatEuros(nanos: number | bigint, digits = 2, locale: LocaleArg = "en"): string {
  const [negative, whole, fraction] = splitEuros(nanos, digits);
  const nf = new Intl.NumberFormat(tag(locale), {
    style: "currency",
    currency: "EUR",
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
  // Intl lays out the sign, symbol, grouping and separators; we supply the digits.
  // Whole euros beyond 2^53 are not money this app will see.
  const parts = nf.formatToParts(negative ? -Number(whole) : Number(whole));
  return parts.map((p) => (p.type === "fraction" ? fraction : p.value)).join("");
}

/**
 * A cost with enough decimals to be seen: 2 from one cent up, then up to 6
 * for small amounts (a local request is 0 €, a short cloud one a fraction of
 * a cent).
 */
export function formatCost(nanos: number | bigint, locale: LocaleArg = "en"): string {
  const n = typeof nanos === "bigint" ? nanos : BigInt(Math.trunc(nanos));
  const abs = n < 0n ? -n : n;
  if (abs === 0n || abs >= 10_000_000n) return formatEuros(n, 2, locale);
  if (abs >= 100_000n) return formatEuros(n, 4, locale);
  return formatEuros(n, 6, locale);
}

/** A price: at least 2 decimals, more (up to 4) only when the price has them (0.125 €). */
export function formatPrice(nanos: number | bigint, locale: LocaleArg = "en"): string {
  const n = typeof nanos === "bigint" ? nanos : BigInt(Math.trunc(nanos));
  let digits = 2;
  while (digits < 4 && n % 10n ** BigInt(9 - digits) !== 0n) digits += 1;
  return formatEuros(n, digits, locale);
}

/** Euros as a plain number, for charts only (axis scale), never for display text. */
export function eurosForChart(nanos: number): number {
  return nanos / 1e9;
}

/** Token counts with the locale's thousands separator: 1,234,567 / 1 234 567. */
export function formatTokens(n: number, locale: LocaleArg = "en"): string {
  return new Intl.NumberFormat(tag(locale), { maximumFractionDigits: 0 }).format(n);
}

/** 131072 → "128K" (context windows are powers of two, written in K of 1024). */
export function formatContext(n: number, locale: LocaleArg = "en"): string {
  if (n >= 1024 && n % 1024 === 0) return `${formatTokens(n / 1024, locale)}K`;
  if (n >= 1000) return `${new Intl.NumberFormat(tag(locale), { maximumFractionDigits: 1 }).format(n / 1000)}k`;
  return formatTokens(n, locale);
}

/** File sizes in powers of 1024 with one decimal: "1.2 GB" / "1,2 Go". */
export function formatBytes(bytes: number, locale: LocaleArg = "en"): string {
  const fr = tag(locale).startsWith("fr");
  const units = fr ? ["o", "Ko", "Mo", "Go", "To"] : ["B", "KB", "MB", "GB", "TB"];
  let v = bytes;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i += 1;
  }
  const nf = new Intl.NumberFormat(tag(locale), { maximumFractionDigits: i === 0 ? 0 : 1 });
  return `${nf.format(v)} ${units[i]}`;
}

/** Audio duration in seconds → "1 h 02 min", "3 min 05 s", "42 s". */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h > 0) return `${h} h ${String(m).padStart(2, "0")} min`;
  if (m > 0) return `${m} min ${String(sec).padStart(2, "0")} s`;
  return `${sec} s`;
}

/** A whole percentage of used over limit (0 when there is no limit). */
export function percentOf(used: number, limit: number | null): number {
  if (limit === null || limit <= 0) return 0;
  return Math.floor((used * 100) / limit);
}

/** `YYYY-MM-DD` as a calendar date in the locale (no time zone shift). */
export function formatDate(ymd: string, locale: LocaleArg = "en"): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(ymd);
  if (!m) return ymd;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return new Intl.DateTimeFormat(tag(locale), { dateStyle: "medium", timeZone: "UTC" }).format(d);
}

/** `YYYY-MM` as "November 2026" / "novembre 2026". */
export function formatMonth(ym: string, locale: LocaleArg = "en"): string {
  const m = /^(\d{4})-(\d{2})$/.exec(ym);
  if (!m) return ym;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, 1));
  return new Intl.DateTimeFormat(tag(locale), { month: "long", year: "numeric", timeZone: "UTC" }).format(d);
}
