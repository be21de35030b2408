import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import type { Channel } from "@tauri-apps/api/core";
import { describe, expect, it } from "vitest";
import type { ChatInput, ChatStreamEvent, Conversation } from "../../bindings";
import { answerSummary, appInfo, catalogRows, chatStarted, row, settingsView } from "../../test/fixtures";
import { appError, channelArg, installIpc, type Args, type HandlerTable } from "../../test/ipc";
import { renderWithApp } from "../../test/render";
import { ChatPanel } from "./ChatPanel";
import { chatModels, defaultModel } from "./models";

const summary = answerSummary;

function backend(more: HandlerTable = {}) {
  let job = 0;
  return installIpc({
    app_info: () => appInfo(),
    settings_get: () => settingsView({ key: "stored", history: true }),
    catalog_list: () => catalogRows(),
    conversations_list: () => [],
    conversation_save: () => true,
    cancel_job: () => true,
    chat_send: () => {
      job += 1;
      return chatStarted({ jobId: `job-${job}` });
    },
    ...more,
  });
}

async function ready() {
  renderWithApp(<ChatPanel />);
  await waitFor(() => expect(screen.getByTestId("chat-model")).toHaveValue("mistral-small3.2:24b"));
}

/** Lets the save after `finished` resolve inside act(). */
const settle = () => act(async () => new Promise<void>((r) => setTimeout(r, 0)));

async function ask(ipc: ReturnType<typeof backend>, text: string) {
  await userEvent.type(screen.getByTestId("chat-input"), `${text}{Enter}`);
  await waitFor(() => expect(ipc.callsTo("chat_send").length).toBeGreaterThan(0));
  const args = ipc.callsTo("chat_send").at(-1) as Args;
  return { input: args.input as ChatInput, events: channelArg<ChatStreamEvent>(args, "onEvent") };
}

describe("chat panel", () => {
  it("streams text into the answer, then shows route, tokens, cost and TTFT", async () => {
    const ipc = backend();
    await ready();
    const { input, events } = await ask(ipc, "Bonjour");
    expect(input).toMatchObject({
      model: "mistral-small3.2:24b",
      policy: "auto",
      confidential: false,
      turns: [{ role: "user", text: "Bonjour", images: [] }],
    });
    expect(screen.getByTestId("chat-input")).toHaveValue("");

    act(() => {
      ipc.send(events, { kind: "text", text: "Hello, " });
      ipc.send(events, { kind: "text", text: "**world**" });
    });
    const answer = screen.getByTestId("chat-answer");
    // The markdown renderer loads lazily: the text shows at once, formatted a moment later.
    expect(await within(answer).findByText("world")).toHaveProperty("tagName", "STRONG");
    expect(answer).toHaveTextContent("Hello, world");
    expect(answer).toHaveAttribute("data-status", "streaming");
    expect(within(answer).queryByTestId("chat-answer-meta")).toBeNull();

    act(() => ipc.send(events, { kind: "finished", summary: summary() }));
    expect(answer).toHaveAttribute("data-status", "done");
    const meta = within(answer).getByTestId("chat-answer-meta");
    expect(meta).toHaveTextContent("Cloud: auto: the cloud is available");
    expect(meta).toHaveTextContent("12 in / 5 out tokens");
    expect(meta).toHaveTextContent("€0.0012");
    expect(meta).toHaveTextContent("first token after 340 ms");
    expect(meta).not.toHaveTextContent("tokens/s");

    await waitFor(() => expect(ipc.callsTo("conversation_save")).toHaveLength(1));
    const saved = ipc.callsTo("conversation_save")[0].conversation as Conversation;
    expect(saved.title).toBe("Bonjour");
    expect(saved.turns.map((t) => [t.role, t.text])).toEqual([
      ["user", "Bonjour"],
      ["assistant", "Hello, **world**"],
    ]);
    expect(saved.turns[1].summary?.costNanos).toBe(1_200_000);
    expect(await screen.findByTestId("chat-conversation")).toHaveTextContent("Bonjour");
  });

  it("shows a cold local model's load, then how long it took", async () => {
    const ipc = backend();
    await ready();
    const { events } = await ask(ipc, "Hi");
    const answer = screen.getByTestId("chat-answer");
    act(() => ipc.send(events, { kind: "loading", stage: "converting", done: 25, total: 100, elapsedMs: 300 }));
    expect(within(answer).getByTestId("chat-loading")).toHaveTextContent("Converting the local model for this CPU, once… 25 %");
    act(() => ipc.send(events, { kind: "loading", stage: "loading", done: 0, total: 0, elapsedMs: 900 }));
    expect(within(answer).getByTestId("chat-loading")).toHaveTextContent("Loading the local model… (0.9 s)");
    act(() => ipc.send(events, { kind: "loading", stage: "ready", done: 0, total: 0, elapsedMs: 1250 }));
    expect(within(answer).queryByTestId("chat-loading")).toBeNull();
    expect(within(answer).getByTestId("chat-loaded")).toHaveTextContent("Local model loaded in 1.3 s");
  });

  it("says what was left out of a long conversation to fit the model's context", async () => {
    const ipc = backend({
      chat_send: () => chatStarted({ jobId: "j", droppedTurns: 3, droppedImages: 2 }),
    });
    await ready();
    const { events } = await ask(ipc, "And now?");
    const answer = screen.getByTestId("chat-answer");
    await waitFor(() => expect(within(answer).getByTestId("chat-fitted")).toBeInTheDocument());
    const notice = within(answer).getByTestId("chat-fitted");
    expect(notice).toHaveTextContent("Older turns not sent, to fit the model's context: 3.");
    expect(notice).toHaveTextContent("Older images not sent, to fit the model's context: 2.");
    act(() => ipc.send(events, { kind: "finished", summary: summary() }));
    await settle();
    expect(within(answer).getByTestId("chat-fitted")).toBeInTheDocument();
  });

  it("shows no such notice when the conversation fits", async () => {
    const ipc = backend();
    await ready();
    await ask(ipc, "Hi");
    await settle();
    expect(screen.queryByTestId("chat-fitted")).toBeNull();
  });

  it("gives a local answer's decode speed", async () => {
    const ipc = backend();
    await ready();
    const { events } = await ask(ipc, "Hi");
    act(() => ipc.send(events, { kind: "finished", summary: summary({ route: "local", costNanos: 0, decodeTokensPerS: 61.27 }) }));
    const meta = within(screen.getByTestId("chat-answer")).getByTestId("chat-answer-meta");
    expect(meta).toHaveTextContent("61.3 tokens/s");
  });

  it("folds the reasoning apart from the answer", async () => {
    const ipc = backend();
    await ready();
    const { events } = await ask(ipc, "Why?");
    act(() => {
      ipc.send(events, { kind: "reasoning", text: "Let me think about it." });
      ipc.send(events, { kind: "text", text: "Because." });
      ipc.send(events, { kind: "finished", summary: summary({ reasoningTokens: 7 }) });
    });
    await settle();
    const answer = screen.getByTestId("chat-answer");
    const details = within(answer).getByTestId("chat-reasoning");
    expect(details.tagName).toBe("DETAILS");
    expect(details).not.toHaveAttribute("open");
    expect(within(details).getByText("Reasoning")).toBeInTheDocument();
    expect(details).toHaveTextContent("Let me think about it.");
    const markdown = answer.querySelector(".markdown") as HTMLElement;
    expect(markdown).toHaveTextContent("Because.");
    expect(markdown).not.toHaveTextContent("Let me think");
    expect(within(answer).getByTestId("chat-answer-meta")).toHaveTextContent("7 of them reasoning");
  });

  it("stops the answer with the Stop button and with Escape", async () => {
    const ipc = backend();
    await ready();
    const first = await ask(ipc, "Long story");
    await userEvent.click(await screen.findByTestId("chat-stop"));
    expect(ipc.callsTo("cancel_job")).toEqual([{ jobId: "job-1" }]);
    act(() => ipc.send(first.events, { kind: "finished", summary: summary({ status: "cancelled" }) }));
    expect(screen.getByTestId("chat-answer")).toHaveAttribute("data-status", "cancelled");
    expect(screen.queryByTestId("chat-stop")).toBeNull();
    expect(screen.queryByTestId("chat-error")).toBeNull();

    await ask(ipc, "Another");
    await screen.findByTestId("chat-stop");
    await userEvent.keyboard("{Escape}");
    expect(ipc.callsTo("cancel_job")).toEqual([{ jobId: "job-1" }, { jobId: "job-2" }]);
  });

  it("cancels once the job id is known when Stop comes first", async () => {
    let release: (v: unknown) => void = () => {};
    const ipc = backend({
      chat_send: () =>
        new Promise((resolve) => {
          release = resolve;
        }),
    });
    await ready();
    await ask(ipc, "Quick");
    await userEvent.click(screen.getByTestId("chat-stop"));
    expect(ipc.callsTo("cancel_job")).toEqual([]);
    await act(async () => release(chatStarted({ jobId: "late", route: "local", reason: { kind: "policyLocal" }, model: "m" })));
    await waitFor(() => expect(ipc.callsTo("cancel_job")).toEqual([{ jobId: "late" }]));
  });

  it("shows a refusal inline with its code", async () => {
    backend({
      chat_send: () => {
        throw appError("no_api_key", "the cloud needs an API key");
      },
    });
    await ready();
    await userEvent.type(screen.getByTestId("chat-input"), "Hi{Enter}");
    const error = await screen.findByTestId("chat-error");
    expect(error).toHaveAttribute("data-error-code", "no_api_key");
    expect(error).toHaveTextContent("No API key is stored: add one in Settings.");
    expect(error).toHaveTextContent("the cloud needs an API key");
    expect(screen.getByTestId("chat-answer")).toHaveAttribute("data-status", "error");
    expect(screen.getByTestId("chat-send")).toBeInTheDocument();
  });

  it("shows an answer that failed midway with the backend's words", async () => {
    const ipc = backend();
    await ready();
    const { events } = await ask(ipc, "Hi");
    act(() => {
      ipc.send(events, { kind: "text", text: "Partial" });
      ipc.send(events, { kind: "finished", summary: summary({ status: "cut", error: "the stream broke" }) });
    });
    await settle();
    const answer = screen.getByTestId("chat-answer");
    expect(answer).toHaveAttribute("data-status", "cut");
    expect(within(answer).getByTestId("chat-error")).toHaveTextContent("the stream broke");
    expect(within(answer).getByTestId("chat-answer-meta")).toHaveTextContent("cut off");
  });

  it("words a failed answer by its error code, keeping the backend's detail", async () => {
    const ipc = backend();
    await ready();
    const { events } = await ask(ipc, "Hi");
    act(() => {
      ipc.send(events, {
        kind: "finished",
        summary: summary({ status: "failed", error: "rate limited: retry in 30 s", errorCode: "rate_limited" }),
      });
    });
    await settle();
    const error = within(screen.getByTestId("chat-answer")).getByTestId("chat-error");
    expect(error).toHaveAttribute("data-error-code", "rate_limited");
    expect(error).toHaveTextContent("The provider is rate-limiting requests.");
    expect(error).toHaveTextContent("retry in 30 s");
  });

  it("regenerates the last answer from the same question", async () => {
    const ipc = backend();
    await ready();
    const { events } = await ask(ipc, "Tell me");
    act(() => {
      ipc.send(events, { kind: "text", text: "First try" });
      ipc.send(events, { kind: "finished", summary: summary() });
    });
    await userEvent.click(screen.getByTestId("chat-regenerate"));
    await waitFor(() => expect(ipc.callsTo("chat_send")).toHaveLength(2));
    const again = ipc.callsTo("chat_send")[1].input as ChatInput;
    expect(again.turns).toEqual([{ role: "user", text: "Tell me", images: [] }]);
    expect(screen.getAllByTestId("chat-answer")).toHaveLength(1);
    expect(screen.getByTestId("chat-answer")).not.toHaveTextContent("First try");
  });

  it("Shift+Enter makes a new line instead of sending", async () => {
    const ipc = backend();
    await ready();
    await userEvent.type(screen.getByTestId("chat-input"), "line one{Shift>}{Enter}{/Shift}line two");
    expect(ipc.callsTo("chat_send")).toHaveLength(0);
    expect(screen.getByTestId("chat-input")).toHaveValue("line one\nline two");
  });

  it("sends the route, the confidential flag and the chosen model", async () => {
    const ipc = backend();
    await ready();
    await userEvent.selectOptions(screen.getByTestId("chat-route"), "local");
    await userEvent.click(screen.getByTestId("chat-confidential"));
    await userEvent.selectOptions(screen.getByTestId("chat-model"), "smollm2-135m-instruct");
    const { input } = await ask(ipc, "Secret");
    expect(input).toMatchObject({ model: "smollm2-135m-instruct", policy: "local", confidential: true });
  });

  it("offers chat models only, with prices, retirement warnings and local models apart", async () => {
    backend();
    await ready();
    const select = screen.getByTestId("chat-model");
    const options = within(select).getAllByRole("option").map((o) => o.getAttribute("value"));
    expect(options).toEqual(["gpt-oss:120b", "mistral-small3.2:24b", "qwen3-coder:30b", "smollm2-135m-instruct"]);
    const groups = select.querySelectorAll("optgroup");
    expect([...groups].map((g) => g.label)).toEqual(["Cloud (LLMaaS)", "On this computer"]);
    expect(within(select).getByRole("option", { name: /gpt-oss:120b/ })).toHaveTextContent("€1.50/M output — Retires on 31 Dec 2026.");
    expect(screen.getByTestId("chat-model-facts")).toHaveTextContent("vision");
    expect(screen.queryByTestId("chat-model-warning")).toBeNull();
    expect(screen.getByTestId("chat-attach")).toBeEnabled();

    await userEvent.selectOptions(select, "gpt-oss:120b");
    expect(screen.getByTestId("chat-model-warning")).toHaveTextContent("Retires on 31 Dec 2026.");
    expect(screen.getByTestId("chat-attach")).toBeDisabled();
  });

  it("attaches images as data URLs and sends them with the question", async () => {
    const ipc = backend();
    await ready();
    const png = new File([new Uint8Array([137, 80, 78, 71])], "a.png", { type: "image/png" });
    await userEvent.upload(screen.getByTestId("chat-image-input"), png);
    const thumb = await screen.findByTestId("chat-attachment");
    expect(thumb.getAttribute("src")).toMatch(/^data:image\/png;base64,/);
    const { input } = await ask(ipc, "What is it?");
    expect(input.turns[0]?.images).toHaveLength(1);
    expect(input.turns[0]?.images?.[0] ?? "").toMatch(/^data:image\/png;base64,/);
    expect(screen.queryByTestId("chat-attachment")).toBeNull();
  });

  it("says when history is off", async () => {
    backend({ settings_get: () => settingsView({ history: false, key: "stored" }) });
    await ready();
    expect(screen.getByTestId("chat-history-off")).toHaveTextContent("History is off: nothing is saved.");
  });

  it("lists stored conversations, opens and deletes them", async () => {
    const stored: Conversation = {
      id: "c-1",
      title: "Old talk",
      model: "qwen3-coder:30b",
      updatedAt: "2026-11-01T10:00:00Z",
      turns: [
        { role: "user", text: "Hello", reasoning: null, images: [], summary: null },
        { role: "assistant", text: "Hi there", reasoning: "thinking", images: [], summary: summary({ model: "qwen3-coder:30b" }) },
      ],
    };
    const ipc = backend({
      conversations_list: () => [{ id: "c-1", title: "Old talk", model: "qwen3-coder:30b", updatedAt: stored.updatedAt }],
      conversation_get: () => stored,
      conversation_delete: () => null,
    });
    await ready();
    await userEvent.click(await screen.findByRole("button", { name: "Old talk" }));
    expect(ipc.callsTo("conversation_get")).toEqual([{ id: "c-1" }]);
    const answer = await screen.findByTestId("chat-answer");
    expect(answer).toHaveTextContent("Hi there");
    expect(within(answer).getByTestId("chat-answer-meta")).toHaveTextContent("€0.0012");
    expect(screen.getByTestId("chat-model")).toHaveValue("qwen3-coder:30b");

    await userEvent.click(screen.getByRole("button", { name: "Delete “Old talk”" }));
    expect(ipc.callsTo("conversation_delete")).toEqual([{ id: "c-1" }]);
    await waitFor(() => expect(screen.queryByTestId("chat-conversation")).toBeNull());
    expect(screen.queryByTestId("chat-answer")).toBeNull();
  });
});

describe("conversations for long work", () => {
  const finish = (ipc: ReturnType<typeof backend>, events: Channel<ChatStreamEvent>, text: string, cost = 1_200_000) =>
    act(() => {
      ipc.send(events, { kind: "text", text });
      ipc.send(events, { kind: "finished", summary: summary({ costNanos: cost }) });
    });

  it("starts with the settings' defaults and sends the conversation's own prompt and sampling", async () => {
    const ipc = backend({
      settings_get: () =>
        settingsView({ key: "stored", history: true, chatDefaults: { systemPrompt: "Answer in French.", temperature: 0.3, maxTokens: 500 } }),
    });
    await ready();
    await waitFor(() => expect(screen.getByTestId("chat-system-prompt")).toHaveValue("Answer in French."));
    const first = await ask(ipc, "Bonjour");
    expect(first.input.turns).toEqual([
      { role: "system", text: "Answer in French.", images: [] },
      { role: "user", text: "Bonjour", images: [] },
    ]);
    expect(first.input).toMatchObject({ temperature: 0.3, maxTokens: 500 });
    finish(ipc, first.events, "Salut");
    await settle();

    // This conversation's own: a new prompt, the model's temperature, a bad length refused.
    await userEvent.click(screen.getByText("Instructions and sampling (set for this conversation)"));
    await userEvent.clear(screen.getByTestId("chat-system-prompt"));
    await userEvent.type(screen.getByTestId("chat-system-prompt"), "Be brief.");
    await userEvent.clear(screen.getByTestId("chat-temperature"));
    await userEvent.clear(screen.getByTestId("chat-max-tokens"));
    await userEvent.type(screen.getByTestId("chat-max-tokens"), "0{Enter}");
    expect(screen.getByTestId("chat-sampling-error")).toHaveTextContent("at least 1");
    await userEvent.clear(screen.getByTestId("chat-max-tokens"));
    await userEvent.type(screen.getByTestId("chat-max-tokens"), "1 000{Enter}");
    expect(screen.queryByTestId("chat-sampling-error")).toBeNull();
    const saved = ipc.callsTo("conversation_save").at(-1)?.conversation as Conversation;
    expect(saved.settings).toEqual({ systemPrompt: "Be brief.", temperature: null, maxTokens: 1000 });

    const second = await ask(ipc, "Encore");
    expect(second.input.turns[0]).toEqual({ role: "system", text: "Be brief.", images: [] });
    expect(second.input).toMatchObject({ temperature: null, maxTokens: 1000 });
  });

  it("copies an answer and a code block", async () => {
    const user = userEvent.setup();
    const ipc = backend();
    await ready();
    const { events } = await ask(ipc, "Code?");
    finish(ipc, events, "Here:\n\n```sh\nls -la\n```\n");
    await user.click(screen.getByTestId("chat-copy"));
    expect(await navigator.clipboard.readText()).toBe("Here:\n\n```sh\nls -la\n```\n");
    expect(screen.getByTestId("chat-copy")).toHaveTextContent("Copied");
    await user.click(screen.getByTestId("md-code-copy"));
    expect(await navigator.clipboard.readText()).toBe("ls -la\n");
  });

  it("shows what the conversation cost so far", async () => {
    const ipc = backend();
    await ready();
    expect(screen.queryByTestId("chat-cost")).toBeNull();
    const one = await ask(ipc, "One");
    finish(ipc, one.events, "1", 1_200_000);
    expect(screen.getByTestId("chat-cost")).toHaveTextContent("This conversation: €0.0012 over 1 answer");
    await settle();
    const two = await ask(ipc, "Two");
    finish(ipc, two.events, "2", 3_000_000);
    expect(screen.getByTestId("chat-cost")).toHaveTextContent("€0.0042 over 2 answers");
  });

  it("renames a conversation and keeps the new title", async () => {
    const ipc = backend();
    await ready();
    const { events } = await ask(ipc, "Budget question");
    finish(ipc, events, "Answer");
    await settle();
    await userEvent.click(screen.getByRole("button", { name: "Rename “Budget question”" }));
    const input = screen.getByTestId("chat-rename-input");
    await userEvent.clear(input);
    await userEvent.type(input, "  Q4   budget {Enter}");
    await waitFor(() => expect(screen.getByTestId("chat-conversation")).toHaveTextContent("Q4 budget"));
    const saved = ipc.callsTo("conversation_save").at(-1)?.conversation as Conversation;
    expect(saved.title).toBe("Q4 budget");
    // Escape leaves the title as it was.
    await userEvent.click(screen.getByRole("button", { name: "Rename “Q4 budget”" }));
    await userEvent.type(screen.getByTestId("chat-rename-input"), "oops{Escape}");
    expect(screen.getByTestId("chat-conversation")).toHaveTextContent("Q4 budget");
  });

  it("searches every conversation, stored or only in this window", async () => {
    const ipc = backend({
      conversations_list: () => [{ id: "c-1", title: "Old talk", model: "m", updatedAt: "2026-11-01T10:00:00Z" }],
      conversations_search: ({ query }) =>
        query === "électricité"
          ? [{ id: "c-1", title: "Old talk", model: "m", updatedAt: "2026-11-01T10:00:00Z", snippet: "…la facture d'Électricité…" }]
          : [],
    });
    await ready();
    const { events } = await ask(ipc, "Electricite en avril");
    finish(ipc, events, "Rien");
    await settle();
    await userEvent.type(screen.getByTestId("chat-search"), "électricité");
    await waitFor(() => expect(screen.getAllByTestId("chat-snippet")).toHaveLength(1));
    expect(ipc.callsTo("conversations_search").at(-1)).toEqual({ query: "électricité" });
    const shown = screen.getAllByTestId("chat-conversation").map((b) => b.textContent);
    expect(shown).toEqual(["Electricite en avril", "Old talk…la facture d'Électricité…"]);
    await userEvent.clear(screen.getByTestId("chat-search"));
    await userEvent.type(screen.getByTestId("chat-search"), "nowhere");
    expect(await screen.findByTestId("chat-search-none")).toHaveTextContent("No conversation has all these words.");
    await userEvent.clear(screen.getByTestId("chat-search"));
    await waitFor(() => expect(screen.getAllByTestId("chat-conversation")).toHaveLength(2));
  });

  it("exports the conversation as Markdown in the user's words, and as JSON", async () => {
    const ipc = backend({ "plugin:dialog|save": () => "/out/budget.md", conversation_export: () => null });
    await ready();
    const { events } = await ask(ipc, "Budget?");
    finish(ipc, events, "**42 €**");
    await settle();
    await userEvent.click(screen.getByTestId("chat-export-md"));
    await waitFor(() => expect(ipc.callsTo("conversation_export")).toHaveLength(1));
    const dialog = ipc.callsTo("plugin:dialog|save")[0].options as { defaultPath: string };
    expect(dialog.defaultPath).toBe("budget.md");
    const md = ipc.callsTo("conversation_export")[0] as { path: string; content: { format: string; text: string } };
    expect(md.path).toBe("/out/budget.md");
    expect(md.content.format).toBe("markdown");
    expect(md.content.text).toContain("# Budget?");
    expect(md.content.text).toContain("## You\n\nBudget?");
    expect(md.content.text).toContain("## Answer\n\n**42 €**");
    expect(md.content.text).toContain("€0.0012");
    expect(await screen.findByText("Conversation saved to /out/budget.md")).toBeInTheDocument();

    ipc.on({ "plugin:dialog|save": () => "/out/budget.json" });
    await userEvent.click(screen.getByTestId("chat-export-json"));
    await waitFor(() => expect(ipc.callsTo("conversation_export")).toHaveLength(2));
    const json = ipc.callsTo("conversation_export")[1] as { content: { format: string; conversation: Conversation } };
    expect(json.content.format).toBe("json");
    expect(json.content.conversation.turns.map((t) => t.text)).toEqual(["Budget?", "**42 €**"]);
  });
});

describe("chat models", () => {
  it("prefers the wanted model, then the first cloud one", () => {
    const rows = [...catalogRows(), row({ id: "old", capabilities: ["chat"], status: "retired" })];
    const models = chatModels(rows);
    expect(models.cloud.map((r) => r.id)).not.toContain("old");
    expect(defaultModel(models, ["nope", "smollm2-135m-instruct"])).toBe("smollm2-135m-instruct");
    expect(defaultModel(models, [null])).toBe("gpt-oss:120b");
    expect(defaultModel(chatModels([]), ["x"])).toBe("");
  });
});
