import type { TFunction } from "./i18n";

/** "tier-2" → "Tier 2", "monthly" → "Monthly invoicing"; anything else as it is. */
export function tierLabel(t: TFunction, tier: string): string {
  const m = /^tier-(\d+)$/.exec(tier);
  if (m) return t("settings.tierN", { n: m[1] });
  return tier === "monthly" ? t("settings.tierMonthly") : tier;
}
