import type { CatalogRow, ModelStatus } from "../../bindings";
import { formatDate } from "../../format";
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

/**
 * A cloud model's lifecycle warning, worded here from its status, dates and
 * successor (the back end sends those, not a sentence); null when there is
 * nothing to warn of.
 */
export function lifecycleText(t: TFunction, lang: string, r: CatalogRow): string | null {
  const date = (d: string | null) => (d ? formatDate(d, lang) : "");
  const then = r.successor ? ` ${t("catalog.lifecycle.successor", { id: r.successor })}` : "";
  switch (r.status) {
    case "endingSoon":
      return r.endOfSupport ? t("catalog.lifecycle.endingSoon", { date: date(r.endOfSupport) }) + then : null;
    case "pastEndOfSupport":
      return r.endOfSupport ? t("catalog.lifecycle.pastEndOfSupport", { date: date(r.endOfSupport) }) + then : null;
    case "retired":
      return (r.retiredOn ? t("catalog.lifecycle.retiredOn", { date: date(r.retiredOn) }) : t("catalog.lifecycle.retired")) + then;
    default:
      return null;
  }
}
