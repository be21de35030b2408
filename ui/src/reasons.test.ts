import { describe, expect, it } from "vitest";
import type { BudgetLimit, RouteWhy } from "./bindings";
import { translate, type Language, type TFunction } from "./i18n";
import { lifecycleText } from "./panels/catalog/labels";
import { budgetText, routeReason } from "./reasons";
import { row } from "./test/fixtures";

const tr = (lang: Language): TFunction => (key, vars) => translate(lang, key, vars);

// One of each code Rust sends (the Record makes a new kind a type error here).
const EVERY_REASON: Record<Exclude<RouteWhy["kind"], "other">, RouteWhy> = {
  confidential: { kind: "confidential" },
  policyLocal: { kind: "policyLocal" },
  policyCloud: { kind: "policyCloud" },
  autoCloud: { kind: "autoCloud" },
  noKey: { kind: "noKey" },
  keyRefused: { kind: "keyRefused" },
  offline: { kind: "offline" },
  modelRetired: { kind: "modelRetired", successor: "qwen3:8b" },
  overBudget: { kind: "overBudget" },
  cloudFailed: { kind: "cloudFailed", error: "HTTP 503" },
};
const EVERY_LIMIT: Record<BudgetLimit, true> = { monthlySpend: true, outputTokensHour: true, outputTokensDay: true };

describe("codes from the back end, in the user's words", () => {
  it("words every route reason in French, never in English", () => {
    for (const why of Object.values(EVERY_REASON)) {
      const fr = routeReason(tr("fr"), why);
      const en = routeReason(tr("en"), why);
      expect(fr, why.kind).not.toBe(en);
      expect(fr, why.kind).not.toMatch(/^reason\./);
      expect(fr, why.kind).not.toMatch(/\b(the|ran|locally|machine|available)\b/);
    }
    expect(routeReason(tr("fr"), EVERY_REASON.modelRetired)).toContain("qwen3:8b");
    expect(routeReason(tr("fr"), { kind: "modelRetired", successor: null })).toBe("auto : le modèle est retiré, exécuté en local");
    expect(routeReason(tr("fr"), EVERY_REASON.cloudFailed)).toContain("HTTP 503");
  });

  it("words every budget warning in French, never in English", () => {
    for (const limit of Object.keys(EVERY_LIMIT) as BudgetLimit[]) {
      const fr = budgetText(tr("fr"), { threshold: 80, limit });
      expect(fr).not.toBe(budgetText(tr("en"), { threshold: 80, limit }));
      expect(fr).toContain("80");
      expect(fr, limit).not.toMatch(/\b(the|used|cap|limit)\b/);
    }
  });

  it("shows a reason it has no words for as the back end said it", () => {
    expect(routeReason(tr("fr"), { kind: "other", text: "auto: the cloud is available" })).toBe("auto: the cloud is available");
  });

  it("words a model's lifecycle warning from its dates, in French too", () => {
    const ending = row({ id: "m", status: "endingSoon", endOfSupport: "2026-12-31", successor: "qwen3:8b" });
    expect(lifecycleText(tr("fr"), "fr", ending)).toBe("Sa fin de support est le 31 déc. 2026. Son successeur est qwen3:8b.");
    expect(lifecycleText(tr("en"), "en", ending)).toBe("Reaches its end of support on 31 Dec 2026. Its successor is qwen3:8b.");
    expect(lifecycleText(tr("fr"), "fr", row({ status: "retired", retiredOn: null }))).toBe("Retiré par le fournisseur.");
    expect(lifecycleText(tr("fr"), "fr", row({ status: "live" }))).toBeNull();
  });
});
