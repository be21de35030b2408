import { describe, expect, it } from "vitest";
import { translate, type TFunction } from "../../i18n";
import { answerSummary } from "../../test/fixtures";
import { fold } from "../../text";
import { blankTurn, conversationCost, emptyConv, exportName, hasWords, searchWords, toMarkdown, toStored, toWire, type Conv } from "./conversation";

function conv(over: Partial<Conv> = {}): Conv {
  const user = { ...blankTurn("user"), text: "Quel budget pour l'Électricité ?", images: ["data:image/png;base64,AAAA"] };
  const answer = {
    ...blankTurn("assistant"),
    text: "**1 200 €**",
    summary: answerSummary({ inputTokens: 1200, outputTokens: 30, costNanos: 2_500_000 }),
  };
  return { ...emptyConv(), title: "Budget 2027", model: "mistral-small3.2:24b", turns: [user, answer], ...over };
}

describe("a conversation as data", () => {
  it("sends its system prompt first, and none when it is blank", () => {
    const c = conv();
    expect(toWire(c.turns, "Be brief.")[0]).toEqual({ role: "system", text: "Be brief.", images: [] });
    expect(toWire(c.turns, "  ").map((t) => t.role)).toEqual(["user", "assistant"]);
    expect(toWire([...c.turns, { ...blankTurn("assistant"), streaming: true }]).length).toBe(2);
  });

  it("adds up what its answers cost", () => {
    const c = conv();
    expect(conversationCost(c.turns)).toEqual({ nanos: 2_500_000, answers: 1 });
    expect(conversationCost([])).toEqual({ nanos: 0, answers: 0 });
  });

  it("folds text as the back end does: case and accents gone", () => {
    // The same case as history.rs's folding test.
    expect(fold("Ça VA, Élodie ? Noël")).toBe("ca va, elodie ? noel");
    expect(searchWords("  ÉLECTRICITÉ   budget ")).toEqual(["electricite", "budget"]);
    expect(hasWords(conv(), searchWords("electricite BUDGET"))).toBe(true);
    expect(hasWords(conv(), searchWords("electricite gaz"))).toBe(false);
    expect(hasWords(conv(), [])).toBe(false);
  });

  it("becomes Markdown in the user's words, with its prompt, images and costs", () => {
    const c = conv({ settings: { systemPrompt: "Réponds en français.\nBrièvement.", temperature: null, maxTokens: null } });
    const t: TFunction = (key, vars) => translate("en", key, vars);
    const md = toMarkdown(c, t, "en");
    expect(md.startsWith("# Budget 2027\n")).toBe(true);
    expect(md).toContain("- Cost: €0.0025");
    expect(md).toContain("> Réponds en français.\n> Brièvement.");
    expect(md).toContain("## You\n\nQuel budget pour l'Électricité ?\n\n_1 image(s) attached_");
    expect(md).toContain("## Answer\n\n**1 200 €**\n\n_Cloud · mistral-small3.2:24b · 1,200 in / 30 out tokens · €0.0025_");
  });

  it("keeps its settings in the stored file and names its export after the title", () => {
    const c = conv({ settings: { systemPrompt: "x", temperature: 0.2, maxTokens: 10 } });
    expect(toStored(c).settings).toEqual({ systemPrompt: "x", temperature: 0.2, maxTokens: 10 });
    expect(exportName(c, "md")).toBe("budget-2027.md");
    expect(exportName(conv({ title: "Été: quoi ?" }), "json")).toBe("ete-quoi.json");
    expect(exportName(conv({ title: "" }), "md")).toBe("conversation.md");
  });
});
