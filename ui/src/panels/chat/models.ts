// Which catalogue rows the chat offers, and in what order.
import type { CatalogRow } from "../../bindings";

export interface ChatModels {
  cloud: CatalogRow[];
  local: CatalogRow[];
}

const byId = (a: CatalogRow, b: CatalogRow) => a.id.localeCompare(b.id);

/** Chat-capable cloud models that are still served, and loadable local files. */
export function chatModels(rows: readonly CatalogRow[]): ChatModels {
  const cloud = rows
    .filter((r) => r.source === "cloud" && r.capabilities.includes("chat") && r.status !== "retired")
    .sort(byId);
  const local = rows.filter((r) => r.source === "local" && r.status === "ready").sort(byId);
  return { cloud, local };
}

/** Models whose end of support is near or past: the date to warn about, else null. */
export function retirementDate(row: CatalogRow): string | null {
  if (row.status !== "endingSoon" && row.status !== "pastEndOfSupport") return null;
  return row.endOfSupport ?? row.retiredOn ?? null;
}

export function canSee(row: CatalogRow | undefined): boolean {
  return row?.capabilities.includes("vision") ?? false;
}

/**
 * The model to start with: the one asked for when it is offered (the
 * settings' default, a conversation's model), else the local default when
 * there is no key, else the first cloud model, else the first local one.
 */
export function defaultModel(
  models: ChatModels,
  wanted: readonly (string | null | undefined)[],
): string {
  const all = [...models.cloud, ...models.local];
  for (const w of wanted) {
    if (!w) continue;
    const hit = all.find((r) => r.id === w || r.aliases.includes(w));
    if (hit) return hit.id;
  }
  return models.cloud[0]?.id ?? models.local[0]?.id ?? "";
}
