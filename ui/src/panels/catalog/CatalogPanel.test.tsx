import { act, fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import type { DownloadEvent } from "../../bindings";
import { appError, channelArg, installIpc } from "../../test/ipc";
import { appInfo, available, catalogRows, row } from "../../test/fixtures";
import { renderWithApp } from "../../test/render";
import { CatalogPanel } from "./CatalogPanel";
import { matches, NO_FILTERS, parseParameters, sortRows } from "./model";

function backend() {
  return installIpc({ app_info: () => appInfo(), catalog_list: () => catalogRows(), models_available: () => [] });
}

const ids = () => screen.getAllByTestId("catalog-row").map((r) => r.getAttribute("data-model-id"));

describe("catalogue table", () => {
  it("lists live cloud and local models, retired ones hidden", async () => {
    backend();
    renderWithApp(<CatalogPanel />);
    await screen.findAllByTestId("catalog-row");
    expect(ids()).toEqual(["bge-m3:567m", "gpt-oss:120b", "mistral-small3.2:24b", "qwen3-coder:30b", "smollm2-135m-instruct"]);
    expect(screen.getByTestId("catalog-count")).toHaveTextContent("5 of 6 models");
    await userEvent.click(screen.getByTestId("catalog-show-retired"));
    expect(ids()).toContain("cogito:14b");
  });

  it("shows capabilities, context, prices and status in each row", async () => {
    backend();
    renderWithApp(<CatalogPanel />);
    const rows = await screen.findAllByTestId("catalog-row");
    const mistral = rows.find((r) => r.dataset.modelId === "mistral-small3.2:24b") as HTMLElement;
    const cells = within(mistral).getAllByRole("cell").map((c) => c.textContent);
    expect(cells).toEqual(["mistral-small3.2:24b", "Cloud", "chattoolsvision", "24B", "128K", "€0.50", "€1.50", "Live", "30 Jun 2027"]);
    const local = rows.find((r) => r.dataset.modelId === "smollm2-135m-instruct") as HTMLElement;
    expect(within(local).getAllByRole("cell").map((c) => c.textContent)).toEqual([
      "smollm2-135m-instruct",
      "Local",
      "chat",
      "100.1 MB · 134M",
      "8K",
      "free",
      "free",
      "Ready",
      "—",
    ]);
  });

  it("searches, and filters by capability and source", async () => {
    backend();
    renderWithApp(<CatalogPanel />);
    await screen.findAllByTestId("catalog-row");
    await userEvent.type(screen.getByTestId("catalog-search"), "openai");
    expect(ids()).toEqual(["gpt-oss:120b"]);
    await userEvent.clear(screen.getByTestId("catalog-search"));
    await userEvent.selectOptions(screen.getByTestId("catalog-capability"), "vision");
    expect(ids()).toEqual(["mistral-small3.2:24b"]);
    await userEvent.selectOptions(screen.getByTestId("catalog-capability"), "");
    await userEvent.selectOptions(screen.getByTestId("catalog-source"), "local");
    expect(ids()).toEqual(["smollm2-135m-instruct"]);
    await userEvent.type(screen.getByTestId("catalog-search"), "nothing-like-this");
    expect(screen.queryAllByTestId("catalog-row")).toHaveLength(0);
    expect(screen.getByText("No model matches these filters.")).toBeInTheDocument();
  });

  it("sorts by a column, and back", async () => {
    backend();
    renderWithApp(<CatalogPanel />);
    await screen.findAllByTestId("catalog-row");
    await userEvent.click(screen.getByTestId("sort-context"));
    expect(ids()).toEqual(["bge-m3:567m", "smollm2-135m-instruct", "gpt-oss:120b", "mistral-small3.2:24b", "qwen3-coder:30b"]);
    expect(screen.getByTestId("sort-context").closest("th")).toHaveAttribute("aria-sort", "ascending");
    await userEvent.click(screen.getByTestId("sort-context"));
    expect(ids()[0]).toBe("qwen3-coder:30b");
    expect(screen.getByTestId("sort-context").closest("th")).toHaveAttribute("aria-sort", "descending");
    await userEvent.click(screen.getByTestId("sort-size"));
    expect(ids()).toEqual(["smollm2-135m-instruct", "bge-m3:567m", "mistral-small3.2:24b", "qwen3-coder:30b", "gpt-oss:120b"]);
  });

  it("opens a model's details and follows its successor", async () => {
    backend();
    renderWithApp(<CatalogPanel />);
    await screen.findAllByTestId("catalog-row");
    await userEvent.click(screen.getByTestId("catalog-show-retired"));
    const cogito = screen.getAllByTestId("catalog-row").find((r) => r.dataset.modelId === "cogito:14b") as HTMLElement;
    await userEvent.click(cogito);
    const details = screen.getByTestId("model-details");
    expect(within(details).getByRole("heading", { level: 2, name: "cogito:14b" })).toBeInTheDocument();
    expect(within(details).getByTestId("details-description")).toHaveTextContent("A retired chat model.");
    expect(within(details).getByTestId("details-lifecycle")).toHaveTextContent("Retired on17 Oct 2025");
    expect(within(details).getByTestId("details-status")).toHaveTextContent("Retired");
    await userEvent.click(within(details).getByTestId("details-successor"));
    const next = screen.getByTestId("model-details");
    expect(within(next).getByRole("heading", { level: 2, name: "qwen3-coder:30b" })).toBeInTheDocument();
    expect(within(next).getByTestId("details-description")).toHaveTextContent("The successor of cogito.");
    fireEvent.keyDown(document, { key: "Escape" });
    expect(screen.queryByTestId("model-details")).not.toBeInTheDocument();
  });

  it("says what a converted local file runs as and the memory it takes", async () => {
    const converted = row({
      id: "smollm2-135m-instruct",
      source: "local",
      status: "ready",
      capabilities: ["chat"],
      quantisation: "Q4_1",
      runsAs: "Q8_0",
      memoryBytes: 260_000_000,
    });
    installIpc({ app_info: () => appInfo(), catalog_list: () => [converted], models_available: () => [] });
    renderWithApp(<CatalogPanel />);
    await userEvent.click(await screen.findByTestId("catalog-row"));
    const details = screen.getByTestId("model-details");
    expect(details).toHaveTextContent("Q4_1, runs as Q8_0 (converted once)");
    expect(details).toHaveTextContent("Memory to run~248 MB");
  });

  it("shows lifecycle warnings, and opens details from the keyboard", async () => {
    backend();
    renderWithApp(<CatalogPanel />);
    const rows = await screen.findAllByTestId("catalog-row");
    const gpt = rows.find((r) => r.dataset.modelId === "gpt-oss:120b") as HTMLElement;
    gpt.focus();
    await userEvent.keyboard("{Enter}");
    expect(within(screen.getByTestId("details-warnings")).getByText("Reaches its end of support on 31 Dec 2026.")).toBeInTheDocument();
  });

  it("imports a GGUF file chosen in the dialog", async () => {
    const ipc = backend();
    const imported = row({ id: "qwen2.5-0.5b-instruct-q4_k_m", source: "local", status: "ready", capabilities: ["chat"], sizeBytes: 400_000_000 });
    ipc.on({
      "plugin:dialog|open": () => "/home/me/Downloads/qwen2.5-0.5b-instruct-q4_k_m.gguf",
      model_import: () => imported,
      catalog_list: () => [...catalogRows(), imported],
    });
    renderWithApp(<CatalogPanel />);
    await screen.findAllByTestId("catalog-row");
    await userEvent.click(screen.getByTestId("catalog-import"));
    expect(await screen.findByTestId("catalog-imported")).toHaveTextContent("qwen2.5-0.5b-instruct-q4_k_m imported.");
    const [{ options }] = ipc.callsTo("plugin:dialog|open") as Array<{ options: { filters: unknown } }>;
    expect(options.filters).toEqual([{ name: "GGUF", extensions: ["gguf"] }]);
    expect(ipc.callsTo("model_import")).toEqual([{ path: "/home/me/Downloads/qwen2.5-0.5b-instruct-q4_k_m.gguf", link: false }]);
    await waitFor(() => expect(ids()).toContain("qwen2.5-0.5b-instruct-q4_k_m"));
  });

  it("says why an import failed, and does nothing when the dialog is cancelled", async () => {
    const ipc = backend();
    ipc.on({ "plugin:dialog|open": () => null });
    renderWithApp(<CatalogPanel />);
    await screen.findAllByTestId("catalog-row");
    await userEvent.click(screen.getByTestId("catalog-import"));
    expect(ipc.callsTo("model_import")).toHaveLength(0);
    ipc.on({
      "plugin:dialog|open": () => "/tmp/x.gguf",
      model_import: () => {
        throw appError("bad_input", "/tmp/x.gguf is not a GGUF model");
      },
    });
    await userEvent.click(screen.getByTestId("catalog-import"));
    expect(await screen.findByRole("alert")).toHaveTextContent("/tmp/x.gguf is not a GGUF model");
  });

  it("shows a load error with a retry", async () => {
    const ipc = backend();
    ipc.on({
      catalog_list: () => {
        throw appError("io", "the catalogue could not be read");
      },
    });
    renderWithApp(<CatalogPanel />);
    expect(await screen.findByRole("alert")).toHaveTextContent("the catalogue could not be read");
    ipc.on({ catalog_list: () => catalogRows() });
    await userEvent.click(screen.getByRole("button", { name: "Retry" }));
    expect(await screen.findAllByTestId("catalog-row")).toHaveLength(5);
  });
});

describe("local models to download", () => {
  const downloads = () => screen.getAllByTestId("download-row");

  it("lists each with what it takes and where it stands", async () => {
    const ipc = backend();
    ipc.on({
      models_available: () => [
        available(),
        available({ name: "llama-3.2-1b", family: "Llama 3.2", parameters: "1B", presence: "partial", downloadedBytes: 450_000_000 }),
        available({ name: "smol", presence: "here", downloadedBytes: 1_800_000_000, localId: "smol-q8_0" }),
      ],
    });
    renderWithApp(<CatalogPanel />);
    await waitFor(() => expect(downloads()).toHaveLength(3));
    const [qwen, llama, smol] = downloads();
    expect(qwen).toHaveTextContent("Qwen3 1.7B");
    expect(qwen).toHaveTextContent("1.7 GB");
    expect(qwen).toHaveTextContent("~2.9 GB");
    expect(qwen).toHaveTextContent("qwen3:1.7b");
    expect(within(qwen).getByTestId("download-start")).toHaveTextContent("Download");
    expect(within(llama).getByTestId("download-start")).toHaveTextContent("Resume (25% here)");
    expect(within(smol).getByTestId("download-here")).toHaveTextContent("Ready as smol-q8_0");
  });

  it("downloads with progress and speed, then lists the model", async () => {
    const ipc = backend();
    ipc.on({ models_available: () => [available()], model_download: () => ({ jobId: "job-1" }) });
    renderWithApp(<CatalogPanel />);
    await userEvent.click(await screen.findByTestId("download-start"));
    const [args] = ipc.callsTo("model_download");
    expect(args.name).toBe("qwen3-1.7b");
    const events = channelArg<DownloadEvent>(args, "onEvent");
    act(() => ipc.send(events, { kind: "progress", done: 900_000_000, total: 1_800_000_000, converting: false, bytesPerSecond: 52_428_800 }));
    expect(screen.getByTestId("download-status")).toHaveTextContent("858.3 MB of 1.7 GB (50%) · 50 MB/s");
    const got = row({ id: "qwen3-1.7b-q8_0", source: "local", status: "ready", capabilities: ["chat"] });
    ipc.on({ models_available: () => [available({ presence: "here", localId: "qwen3-1.7b-q8_0" })] });
    act(() => ipc.send(events, { kind: "done", row: got }));
    expect(await screen.findByTestId("catalog-imported")).toHaveTextContent("qwen3-1.7b-q8_0 downloaded and ready.");
    await waitFor(() => expect(ids()).toContain("qwen3-1.7b-q8_0"));
    expect(await screen.findByTestId("download-here")).toHaveTextContent("Ready as qwen3-1.7b-q8_0");
  });

  it("cancels a download, and says why one failed", async () => {
    const ipc = backend();
    ipc.on({ models_available: () => [available()], model_download: () => ({ jobId: "job-2" }), cancel_job: () => true });
    renderWithApp(<CatalogPanel />);
    await userEvent.click(await screen.findByTestId("download-start"));
    const events = channelArg<DownloadEvent>(ipc.callsTo("model_download")[0], "onEvent");
    await waitFor(() => expect(screen.getByTestId("download-cancel")).toBeEnabled());
    await userEvent.click(screen.getByTestId("download-cancel"));
    expect(ipc.callsTo("cancel_job")).toEqual([{ jobId: "job-2" }]);
    ipc.on({ models_available: () => [available({ presence: "partial", downloadedBytes: 900_000_000 })] });
    act(() => ipc.send(events, { kind: "cancelled" }));
    expect(await screen.findByTestId("download-start")).toHaveTextContent("Resume (50% here)");

    await userEvent.click(screen.getByTestId("download-start"));
    const again = channelArg<DownloadEvent>(ipc.callsTo("model_download")[1], "onEvent");
    act(() => ipc.send(again, { kind: "failed", error: { code: "io", message: "not enough free space" } }));
    expect(await screen.findByTestId("download-error")).toHaveTextContent("not enough free space");
  });
});

describe("model helpers", () => {
  it("reads parameters like model cards", () => {
    expect(parseParameters("24B")).toBe(24e9);
    expect(parseParameters("120B (MoE)")).toBe(120e9);
    expect(parseParameters("567M")).toBe(567e6);
    expect(parseParameters("7.2B")).toBeCloseTo(7.2e9);
    expect(parseParameters("")).toBeNull();
  });

  it("matches every search word, in aliases too", () => {
    const r = row({ id: "mistral-small3.2:24b", aliases: ["mistral-small"], editor: "Mistral AI" });
    expect(matches(r, { ...NO_FILTERS, search: "mistral ai" })).toBe(true);
    expect(matches(r, { ...NO_FILTERS, search: "mistral openai" })).toBe(false);
  });

  it("puts missing values last whatever the direction", () => {
    const rows = [row({ id: "a", context: null }), row({ id: "b", context: 10 }), row({ id: "c", context: 20 })];
    expect(sortRows(rows, { column: "context", descending: false }).map((r) => r.id)).toEqual(["b", "c", "a"]);
    expect(sortRows(rows, { column: "context", descending: true }).map((r) => r.id)).toEqual(["c", "b", "a"]);
  });
});
