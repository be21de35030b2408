import { act, fireEvent, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import type { OcrEvent } from "../../bindings";
import { appInfo, settingsView } from "../../test/fixtures";
import { channelArg, installIpc, type HandlerTable } from "../../test/ipc";
import { renderWithApp } from "../../test/render";
import { drop, dropFiles, notes, resetWindow } from "../../test/window";
import { OcrPanel } from "./OcrPanel";

// The window's drag and drop and the notification plugin, as the panel sees them.
vi.mock("@tauri-apps/api/webview", () => import("../../test/window").then((m) => m.webview));
vi.mock("@tauri-apps/plugin-notification", () => import("../../test/window").then((m) => m.notification));

beforeEach(resetWindow);

const PNG1 = "data:image/png;base64,AAAA";
const PNG2 = "data:image/png;base64,BBBB";
const PAGE1 = "# Invoice 42\n\n| Item | Price |\n|---|---|\n| Tea | 3 € |";
const PAGE2 = "Thank you for your order.";
const MARKDOWN = `<!-- page 1 -->\n${PAGE1}\n\n<!-- page 2 -->\n${PAGE2}\n`;

function backend(more: HandlerTable = {}) {
  return installIpc({
    app_info: () => appInfo(),
    settings_get: () => settingsView(),
    cancel_job: () => true,
    ocr_start: () => ({ jobId: "ocr-1" }),
    ocr_export: () => null,
    ...more,
  });
}

function pageDone(page: number, markdown: string): OcrEvent {
  return { kind: "pageDone", page, status: "done", costNanos: 1_000_000, route: "cloud", markdown, error: null };
}

async function dropAndStart(ipc: ReturnType<typeof backend>, paths: string[]) {
  renderWithApp(<OcrPanel />);
  await waitFor(() => expect(drop.handler).not.toBeNull());
  dropFiles(paths);
  await waitFor(() => expect(ipc.callsTo("ocr_start")).toHaveLength(1));
  return channelArg<OcrEvent>(ipc.callsTo("ocr_start")[0], "onEvent");
}

function readAll(ipc: ReturnType<typeof backend>, events: ReturnType<typeof channelArg<OcrEvent>>, elapsed = false) {
  act(() => {
    ipc.send(events, { kind: "opened", pages: 2, selected: 2 });
    ipc.send(events, { kind: "thumbnail", page: 1, dataUrl: PNG1 });
    ipc.send(events, { kind: "thumbnail", page: 2, dataUrl: PNG2 });
    ipc.send(events, { kind: "started", page: 1 });
    ipc.send(events, pageDone(1, PAGE1));
    ipc.send(events, { kind: "started", page: 2 });
    ipc.send(events, pageDone(2, PAGE2));
  });
  if (elapsed) vi.spyOn(Date, "now").mockReturnValue(Date.now() + 60_000);
  act(() =>
    ipc.send(events, {
      kind: "done",
      markdown: MARKDOWN,
      costNanos: 2_000_000,
      pages: [
        { page: 1, markdown: PAGE1, status: "done", costNanos: 1_000_000, route: "cloud", error: null },
        { page: 2, markdown: PAGE2, status: "done", costNanos: 1_000_000, route: "cloud", error: null },
      ],
    }),
  );
}

describe("OCR panel", () => {
  it("asks before reading a long document, with its page count and cost, and reads it all once confirmed", async () => {
    const ipc = backend();
    const events = await dropAndStart(ipc, ["/scans/annual-report.pdf"]);
    act(() => ipc.send(events, { kind: "needsConfirmation", pages: 120, atMostNanos: 2_345_000_000 }));
    const ask = await screen.findByTestId("ocr-confirm");
    expect(ask).toHaveTextContent("120 pages");
    expect(ask).toHaveTextContent("2.35");
    await userEvent.click(within(ask).getByRole("button", { name: "Read all 120 pages" }));
    await waitFor(() => expect(ipc.callsTo("ocr_start")).toHaveLength(2));
    expect(ipc.callsTo("ocr_start")[1].input).toEqual({
      path: "/scans/annual-report.pdf",
      mode: "markdown",
      pages: null,
      confidential: false,
      confirmed: true,
    });
    expect(screen.queryByTestId("ocr-confirm")).toBeNull();
  });

  it("shows page thumbnails and progress, then the markdown preview with its table", async () => {
    const ipc = backend();
    const events = await dropAndStart(ipc, ["/scans/invoice.pdf", "/scans/song.mp3"]);
    expect(screen.getByTestId("ocr-rejected")).toHaveTextContent("song.mp3");
    expect(ipc.callsTo("ocr_start")[0].input).toEqual({ path: "/scans/invoice.pdf", mode: "markdown", pages: null, confidential: false, confirmed: false });
    const item = screen.getByTestId("ocr-item");
    expect(item).toHaveAttribute("data-status", "running");

    act(() => {
      ipc.send(events, { kind: "opened", pages: 2, selected: 2 });
      ipc.send(events, { kind: "thumbnail", page: 1, dataUrl: PNG1 });
      ipc.send(events, { kind: "thumbnail", page: 2, dataUrl: PNG2 });
      ipc.send(events, { kind: "started", page: 1 });
    });
    expect(screen.getAllByTestId("ocr-thumbnail").map((i) => i.getAttribute("src"))).toEqual([PNG1, PNG2]);
    expect(screen.getByTestId("ocr-preview")).toHaveTextContent("Reading…");
    // A page shows as soon as it is read, before the document is done.
    act(() => ipc.send(events, pageDone(1, PAGE1)));
    expect(within(item).getByTestId("ocr-pages-done")).toHaveTextContent("1 / 2 pages");
    expect((within(item).getByTestId("ocr-progress") as HTMLProgressElement).value).toBe(1);
    expect(await within(screen.getByTestId("ocr-preview")).findByRole("heading", { name: "Invoice 42" })).toBeInTheDocument();
    expect(screen.getByTestId("ocr-export")).toBeDisabled();

    act(() => {
      ipc.send(events, { kind: "started", page: 2 });
      ipc.send(events, pageDone(2, PAGE2));
      ipc.send(events, {
        kind: "done",
        markdown: MARKDOWN,
        costNanos: 2_000_000,
        pages: [
          { page: 1, markdown: PAGE1, status: "done", costNanos: 1_000_000, route: "cloud", error: null },
          { page: 2, markdown: PAGE2, status: "done", costNanos: 1_000_000, route: "cloud", error: null },
        ],
      });
    });
    expect(item).toHaveAttribute("data-status", "done");
    expect(within(item).getByTestId("ocr-cost")).toHaveTextContent("€0.0020");
    const preview = screen.getByTestId("ocr-preview");
    expect(await within(preview).findByRole("heading", { name: "Invoice 42" })).toBeInTheDocument();
    const table = within(preview).getByRole("table");
    expect(within(table).getAllByRole("cell").map((c) => c.textContent)).toEqual(["Tea", "3 €"]);
    expect(preview).toHaveTextContent(PAGE2);

    await userEvent.click(screen.getByRole("button", { name: /^Page 2\b/ }));
    expect(preview).toHaveTextContent(PAGE2);
    expect(preview).not.toHaveTextContent("Invoice 42");
    expect(screen.getByRole("img", { name: "Page 2" })).toHaveAttribute("src", PNG2);
    expect(notes.sent).toEqual([]);
  });

  it("copies the markdown shown and exports the whole document", async () => {
    const writeText = vi.fn(() => Promise.resolve());
    Object.defineProperty(navigator, "clipboard", { value: { writeText }, configurable: true });
    const ipc = backend({ "plugin:dialog|save": () => "/out/invoice.md" });
    const events = await dropAndStart(ipc, ["/scans/invoice.pdf"]);
    readAll(ipc, events);

    fireEvent.click(screen.getByTestId("ocr-copy"));
    await waitFor(() => expect(writeText).toHaveBeenCalledWith(MARKDOWN));
    expect(await screen.findByText("Copied to the clipboard.")).toBeInTheDocument();
    fireEvent.click(screen.getByRole("button", { name: /^Page 1\b/ }));
    fireEvent.click(screen.getByTestId("ocr-copy"));
    await waitFor(() => expect(writeText).toHaveBeenLastCalledWith(PAGE1));

    fireEvent.click(screen.getByTestId("ocr-export"));
    await waitFor(() => expect(ipc.callsTo("ocr_export")).toEqual([{ markdown: MARKDOWN, path: "/out/invoice.md" }]));
    expect((ipc.callsTo("plugin:dialog|save")[0].options as { defaultPath: string }).defaultPath).toBe("invoice.md");
  });

  it("sends the mode, pages and confidential flag, and cancels through cancel_job", async () => {
    const ipc = backend();
    renderWithApp(<OcrPanel />);
    await waitFor(() => expect(drop.handler).not.toBeNull());
    await userEvent.selectOptions(screen.getByTestId("ocr-mode"), "table");
    await userEvent.type(screen.getByTestId("ocr-pages"), "1-3");
    await userEvent.click(screen.getByTestId("ocr-confidential"));
    act(() => drop.handler?.({ payload: { type: "drop", paths: ["/scans/scan.png"] } }));
    await waitFor(() => expect(ipc.callsTo("ocr_start")).toHaveLength(1));
    expect(ipc.callsTo("ocr_start")[0].input).toEqual({ path: "/scans/scan.png", mode: "table", pages: "1-3", confidential: true, confirmed: false });

    await waitFor(() => expect(screen.getByTestId("ocr-cancel")).toBeEnabled());
    await userEvent.click(screen.getByTestId("ocr-cancel"));
    expect(ipc.callsTo("cancel_job")).toEqual([{ jobId: "ocr-1" }]);
    act(() => ipc.send(channelArg<OcrEvent>(ipc.callsTo("ocr_start")[0], "onEvent"), { kind: "cancelled" }));
    expect(screen.getByTestId("ocr-item")).toHaveAttribute("data-status", "cancelled");
  });

  it("shows why a document failed", async () => {
    const ipc = backend();
    const events = await dropAndStart(ipc, ["/scans/photo.jpg"]);
    act(() => ipc.send(events, { kind: "failed", error: { code: "no_local_model", message: "confidential needs a local vision model" } }));
    const item = screen.getByTestId("ocr-item");
    expect(item).toHaveAttribute("data-status", "failed");
    expect(item).toHaveTextContent("No local model can run this.");
    expect(item).toHaveTextContent("confidential needs a local vision model");
  });

  it("notifies when a long document is read", async () => {
    const ipc = backend();
    const events = await dropAndStart(ipc, ["/scans/book.pdf"]);
    readAll(ipc, events, true);
    await waitFor(() => expect(notes.sent).toEqual([{ title: "OCR", body: "book.pdf is read." }]));
  });
});

describe("withoutPageMarkers", () => {
  it("drops the export's page comments and keeps the text", async () => {
    const { withoutPageMarkers } = await import("./DocView");
    const md = "<!-- page 1 -->\n# Facture\n\n<!-- page 2 -->\n| a | b |";
    const out = withoutPageMarkers(md);
    expect(out).not.toContain("<!--");
    expect(out).toContain("# Facture");
    expect(out).toContain("| a | b |");
  });
});

describe("joinPages", () => {
  it("puts pages that finished out of order back in page order, each after its marker", async () => {
    const { joinPages } = await import("./useOcr");
    const page = (n: number, markdown: string) => ({ page: n, markdown, status: "done", costNanos: 0, route: null, error: null });
    expect(joinPages([page(3, "Three"), page(1, "# One\n")])).toBe("<!-- page 1 -->\n# One\n\n<!-- page 3 -->\nThree\n");
  });
});
