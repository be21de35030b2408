// What the back end says as codes, in the user's words: why a request went
// where it went, and which limit a budget warning is about. The switches are
// exhaustive, so a new code from Rust fails the type check until it has its
// words in both languages.
import type { BudgetWarning, RouteWhy } from "./bindings";
import type { TFunction } from "./i18n";

export function routeReason(t: TFunction, why: RouteWhy): string {
  switch (why.kind) {
    case "confidential":
    case "policyLocal":
    case "policyCloud":
    case "autoCloud":
    case "noKey":
    case "keyRefused":
    case "offline":
    case "overBudget":
      return t(`reason.${why.kind}`);
    case "modelRetired":
      return why.successor ? t("reason.modelRetiredFor", { successor: why.successor }) : t("reason.modelRetired");
    case "cloudFailed":
      return t("reason.cloudFailed", { error: why.error });
    case "other":
      return why.text;
    default:
      return unreachable(why);
  }
}

export function budgetText(t: TFunction, w: BudgetWarning): string {
  switch (w.limit) {
    case "monthlySpend":
    case "outputTokensHour":
    case "outputTokensDay":
      return t(`spend.alert.${w.limit}`, { threshold: w.threshold });
    default:
      return unreachable(w.limit);
  }
}

function unreachable(x: never): string {
  return String(x);
}
