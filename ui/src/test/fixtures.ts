// Sample values as the Rust commands return them.
import type { AnswerSummary, AppInfo, AvailableRow, CatalogRow, ChatStarted, SettingsView, SpendLine, SpendOverview } from "../bindings";

/** What `chat_send` answers: a cloud answer that fits, unless `over` says otherwise. */
export function chatStarted(over: Partial<ChatStarted> = {}): ChatStarted {
  return {
    jobId: "job-1",
    route: "cloud",
    reason: { kind: "autoCloud" },
    model: "mistral-small3.2:24b",
    budgetWarning: null,
    droppedTurns: 0,
    droppedImages: 0,
    ...over,
  };
}

/** An answer's ledger row: a cloud answer of 12 in / 5 out tokens for 0.0012 €. */
export function answerSummary(over: Partial<AnswerSummary> = {}): AnswerSummary {
  return {
    id: "req-1",
    route: "cloud",
    reason: { kind: "autoCloud" },
    model: "mistral-small3.2:24b",
    status: "done",
    inputTokens: 12,
    outputTokens: 5,
    reasoningTokens: 0,
    estimated: false,
    costNanos: 1_200_000,
    latencyMs: 900,
    ttftMs: 340,
    error: null,
    recorded: true,
    ...over,
  };
}

export function appInfo(over: Partial<AppInfo> = {}): AppInfo {
  return {
    version: "0.1.0",
    language: "en",
    systemLanguage: "en",
    device: "cuda:0",
    key: "missing",
    localChatModel: "smollm2-135m-instruct",
    localChatReady: true,
    loadedModel: null,
    dataDir: "/home/me/.local/share/llmaas-desktop",
    ...over,
  };
}

export function settingsView(over: Partial<SettingsView> = {}): SettingsView {
  return {
    baseUrl: "https://api.llmaas.example/v1",
    tier: "tier-1",
    tiers: ["tier-1", "tier-2", "tier-3", "tier-4", "monthly"],
    policy: "auto",
    overBudget: "refuse",
    chatModel: "mistral-small3.2:24b",
    ocrModel: "deepseek-ocr",
    transcriptionModel: "whisper-large-v3",
    localChatModel: "smollm2-135m-instruct",
    localSpeechModel: "/models/ggml-base.bin",
    modelsFolder: "/home/me/.local/share/llmaas-desktop/models",
    modelsFolderIsDefault: true,
    monthlyLimitEur: null,
    outputTokensPerHour: null,
    outputTokensPerDay: null,
    project: null,
    chatDefaults: { systemPrompt: null, temperature: null, maxTokens: null },
    history: false,
    language: null,
    hotFolder: null,
    hotFolderConfidential: false,
    key: "missing",
    ...over,
  };
}

const base: CatalogRow = {
  id: "",
  source: "cloud",
  aliases: [],
  family: "",
  editor: "",
  parameters: "",
  sizeBytes: null,
  context: null,
  capabilities: [],
  inputPerMillionNanos: 500_000_000,
  outputPerMillionNanos: 1_500_000_000,
  status: "live",
  endOfSupport: null,
  productionDate: null,
  retiredOn: null,
  successor: null,
  lts: null,
  description: null,
  licence: "Apache-2.0",
  path: null,
  quantisation: null,
  runsAs: null,
  memoryBytes: null,
  problem: null,
};

export function row(over: Partial<CatalogRow>): CatalogRow {
  return { ...base, ...over };
}

export function catalogRows(): CatalogRow[] {
  return [
    row({
      id: "mistral-small3.2:24b",
      family: "mistral-small",
      editor: "Mistral AI",
      parameters: "24B",
      context: 131072,
      capabilities: ["chat", "tools", "vision"],
      productionDate: "2025-06-20",
      endOfSupport: "2027-06-30",
      description: "A small multimodal model.",
    }),
    row({
      id: "gpt-oss:120b",
      family: "gpt-oss",
      editor: "OpenAI",
      parameters: "120B (MoE)",
      context: 131072,
      capabilities: ["chat", "tools", "reasoning"],
      endOfSupport: "2026-12-31",
      status: "endingSoon",
    }),
    row({
      id: "qwen3-coder:30b",
      family: "qwen3",
      editor: "Alibaba",
      parameters: "30B",
      context: 262144,
      capabilities: ["chat", "tools"],
      productionDate: "2025-09-01",
      description: "The successor of cogito.",
    }),
    row({
      id: "cogito:14b",
      family: "cogito",
      editor: "Deep Cogito",
      parameters: "14B",
      context: 32768,
      capabilities: ["chat"],
      status: "retired",
      retiredOn: "2025-10-17",
      successor: "qwen3-coder:30b",
      inputPerMillionNanos: null,
      outputPerMillionNanos: null,
      description: "A retired chat model.",
    }),
    row({
      id: "bge-m3:567m",
      family: "bge-m3",
      editor: "BAAI",
      parameters: "567M",
      context: 8192,
      capabilities: ["embedding"],
      lts: true,
      endOfSupport: "2027-12-30",
    }),
    row({
      id: "smollm2-135m-instruct",
      source: "local",
      family: "llama",
      parameters: "134M",
      sizeBytes: 105_000_000,
      context: 8192,
      capabilities: ["chat"],
      inputPerMillionNanos: 0,
      outputPerMillionNanos: 0,
      status: "ready",
      licence: "",
      path: "/models/smollm2-135m-instruct-q8_0.gguf",
      quantisation: "Q8_0",
    }),
  ];
}

function line(key: string, requests: number, input: number, output: number, costNanos: number, audioSeconds = 0): SpendLine {
  return { key, requests, inputTokens: input, outputTokens: output, audioSeconds, costNanos };
}

export function spendOverview(over: Partial<SpendOverview> = {}): SpendOverview {
  return {
    month: "2026-11",
    current: true,
    months: ["2026-11", "2026-10", "2026-09"],
    tier: "tier-2",
    monthSpend: { used: 12_345_678_901, limit: 20_000_000_000 },
    outputTokensHour: { used: 45_000, limit: 50_000 },
    outputTokensDay: { used: 120_000, limit: null },
    requests: 1234,
    byDay: [line("2026-11-01", 400, 1_000_000, 40_000, 4_000_000_000), line("2026-11-02", 834, 2_000_000, 80_000, 8_345_678_901)],
    byModel: [
      line("mistral-small3.2:24b", 1000, 2_500_000, 100_000, 10_000_000_000),
      line("gpt-oss:120b", 200, 500_000, 20_000, 2_345_678_901),
      line("smollm2-135m-instruct", 34, 1000, 500, 0),
    ],
    byProject: [line("", 1200, 2_900_000, 115_000, 12_000_000_000), line("acme", 34, 101_000, 5_500, 345_678_901)],
    forecast: { perDayNanos: 411_522_630, projectedNanos: 24_691_357_802, limitReachedOn: "2026-11-20" },
    alerts: [
      { limit: "monthlySpend", threshold: 50 },
      { limit: "outputTokensHour", threshold: 80 },
    ],
    ...over,
  };
}

/** A downloadable local model (the Catalogue's Downloads section). */
export function available(over: Partial<AvailableRow> = {}): AvailableRow {
  return {
    name: "qwen3-1.7b",
    family: "Qwen3",
    editor: "Qwen",
    description: "Qwen3 1.7B",
    parameters: "1.7B",
    quantisation: "Q8_0",
    licence: "Apache-2.0",
    url: "https://huggingface.co/Qwen/Qwen3-1.7B-GGUF/resolve/main/Qwen3-1.7B-Q8_0.gguf",
    sizeBytes: 1_800_000_000,
    memoryBytes: 3_100_000_000,
    context: 32768,
    capabilities: ["chat", "tools", "reasoning"],
    standsInFor: "qwen3:1.7b",
    presence: "absent",
    downloadedBytes: 0,
    localId: null,
    ...over,
  };
}
