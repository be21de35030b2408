// Filtering and sorting the catalogue table (pure, so tests can pin them).
import type { CatalogRow, ModelStatus } from "../../bindings";

export type SourceFilter = "all" | "cloud" | "local";
export type SortColumn =
  | "name"
  | "source"
  | "capabilities"
  | "size"
  | "context"
  | "priceIn"
  | "priceOut"
  | "status"
  | "retireDate";
export interface Sort {
  column: SortColumn;
  descending: boolean;
}

export interface Filters {
  search: string;
  capability: string;
  source: SourceFilter;
  showRetired: boolean;
}

export const NO_FILTERS: Filters = { search: "", capability: "", source: "all", showRetired: false };

export function matches(row: CatalogRow, f: Filters): boolean {
  if (!f.showRetired && row.status === "retired") return false;
  if (f.source !== "all" && row.source !== f.source) return false;
  if (f.capability && !row.capabilities.includes(f.capability)) return false;
  const words = f.search.toLowerCase().split(/\s+/).filter(Boolean);
  if (words.length === 0) return true;
  const haystack = [row.id, ...row.aliases, row.family, row.editor, row.parameters, row.description ?? "", row.quantisation ?? ""]
    .join(" ")
    .toLowerCase();
  return words.every((w) => haystack.includes(w));
}

/** "24B" → 24e9, "120B (MoE)" → 120e9, "567M" → 567e6, "7.2B" → 7.2e9; null when unreadable. */
export function parseParameters(s: string): number | null {
  const m = /(\d+(?:[.,]\d+)?)\s*([KMBT])?/i.exec(s);
  if (!m) return null;
  const n = Number(m[1].replace(",", "."));
  const unit = (m[2] ?? "").toUpperCase();
  const mult = unit === "K" ? 1e3 : unit === "M" ? 1e6 : unit === "B" ? 1e9 : unit === "T" ? 1e12 : 1;
  return n * mult;
}

/** The date a model stops (or stopped) being served. */
export function retireDate(row: CatalogRow): string | null {
  return row.retiredOn ?? row.endOfSupport;
}

const STATUS_RANK: Record<ModelStatus, number> = {
  ready: 0,
  live: 1,
  endingSoon: 2,
  pastEndOfSupport: 3,
  unusable: 4,
  retired: 5,
};

function key(row: CatalogRow, c: SortColumn): string | number | null {
  switch (c) {
    case "name":
      return row.id.toLowerCase();
    case "source":
      return row.source;
    case "capabilities":
      return row.capabilities.length === 0 ? null : [...row.capabilities].sort().join(",");
    case "size":
      return parseParameters(row.parameters) ?? row.sizeBytes;
    case "context":
      return row.context;
    case "priceIn":
      return row.inputPerMillionNanos;
    case "priceOut":
      return row.outputPerMillionNanos;
    case "status":
      return STATUS_RANK[row.status];
    case "retireDate":
      return retireDate(row);
  }
}

/** Sorted copy; missing values always last, ties by name. */
export function sortRows(rows: readonly CatalogRow[], sort: Sort): CatalogRow[] {
  const dir = sort.descending ? -1 : 1;
  return [...rows].sort((a, b) => {
    const ka = key(a, sort.column);
    const kb = key(b, sort.column);
    if (ka === null && kb !== null) return 1;
    if (kb === null && ka !== null) return -1;
    if (ka !== null && kb !== null && ka !== kb) {
      const cmp = typeof ka === "number" && typeof kb === "number" ? ka - kb : String(ka).localeCompare(String(kb));
      if (cmp !== 0) return cmp * dir;
    }
    return a.id.localeCompare(b.id);
  });
}

/** Every capability that appears, sorted. */
export function capabilitiesOf(rows: readonly CatalogRow[]): string[] {
  return [...new Set(rows.flatMap((r) => r.capabilities))].sort();
}

export function statusTone(s: ModelStatus): "ok" | "warn" | "danger" {
  if (s === "live" || s === "ready") return "ok";
  if (s === "endingSoon" || s === "pastEndOfSupport") return "warn";
  return "danger";
}
