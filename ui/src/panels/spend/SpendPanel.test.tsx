import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { PanelActiveContext } from "../active";
import { appError, installIpc } from "../../test/ipc";
import { appInfo, spendOverview } from "../../test/fixtures";
import { renderWithApp } from "../../test/render";
import { SpendPanel } from "./SpendPanel";
import { gaugeTone } from "./Gauge";

const plain = (s: string | null) => (s ?? "").replace(/[\u202f\u00a0]/g, " ");

function backend(overview = spendOverview()) {
  return installIpc({ app_info: () => appInfo(), spend_overview: () => overview });
}

describe("spend panel", () => {
  it("shows the gauges against their limits", async () => {
    backend();
    renderWithApp(<SpendPanel />);
    const month = await screen.findByTestId("gauge-month");
    expect(month).toHaveTextContent("€12.35 of €20.00");
    expect(month).toHaveAttribute("data-percent", "61");
    expect(within(month).getByRole("meter")).toHaveAttribute("aria-valuenow", "61");
    const hour = screen.getByTestId("gauge-hour");
    expect(hour).toHaveTextContent("45,000 of 50,000");
    expect(hour.querySelector(".gauge-fill")).toHaveClass("warn");
    const day = screen.getByTestId("gauge-day");
    expect(day).toHaveTextContent("120,000 (no limit)");
    expect(within(day).queryByRole("meter")).not.toBeInTheDocument();
  });

  it("shows requests, total, forecast and alerts", async () => {
    backend();
    renderWithApp(<SpendPanel />);
    expect(await screen.findByTestId("spend-requests")).toHaveTextContent("1,234");
    expect(screen.getByTestId("spend-total")).toHaveTextContent("€12.35");
    const forecast = screen.getByTestId("spend-forecast");
    expect(forecast).toHaveTextContent("Month-end forecast: €24.69");
    expect(forecast).toHaveTextContent("Recent pace: €0.41 per day");
    expect(forecast).toHaveTextContent("the monthly limit is reached on 20 Nov 2026");
    const alerts = within(screen.getByTestId("spend-alerts")).getAllByRole("listitem");
    expect(alerts.map((a) => a.textContent)).toEqual([
      "50 % of this month's spending limit used",
      "80 % of the hourly output-token cap used",
    ]);
    expect(screen.getByText("November 2026 · Tier 2")).toBeInTheDocument();
  });

  it("breaks the month down by model and by project", async () => {
    backend();
    renderWithApp(<SpendPanel />);
    const byModel = await screen.findByTestId("spend-by-model");
    const rows = within(byModel).getAllByRole("row").slice(1);
    expect(rows.map((r) => r.getAttribute("data-key"))).toEqual(["mistral-small3.2:24b", "gpt-oss:120b", "smollm2-135m-instruct", null]);
    expect(within(rows[1]).getAllByRole("cell").map((c) => c.textContent)).toEqual(["200", "500,000", "20,000", "€2.35"]);
    expect(rows[3]).toHaveTextContent("Total this month1,2343,001,000120,500€12.35");
    const byProject = screen.getByTestId("spend-by-project");
    expect(within(byProject).getByText("(no project)")).toBeInTheDocument();
    expect(within(byProject).getByText("acme")).toBeInTheDocument();
    // The daily figures are readable without the chart (the chart's code
    // loads lazily: more than the default second on a busy machine).
    expect(within(await screen.findByTestId("spend-daily", {}, { timeout: 10_000 })).getByRole("row", { name: /2 Nov 2026/ })).toHaveTextContent("€8.35");
  });

  it("formats in French", async () => {
    backend();
    renderWithApp(<SpendPanel />, "fr");
    expect(plain((await screen.findByTestId("gauge-month")).textContent)).toContain("12,35 € sur 20,00 €");
    expect(plain(screen.getByTestId("spend-requests").textContent)).toBe("1 234");
    expect(screen.getByText(/novembre 2026 · /)).toBeInTheDocument();
  });

  it("says when nothing was spent and there is no limit", async () => {
    backend(
      spendOverview({
        monthSpend: { used: 0, limit: null },
        requests: 0,
        byDay: [],
        byModel: [],
        byProject: [],
        forecast: null,
        alerts: [],
      }),
    );
    renderWithApp(<SpendPanel />);
    expect(await screen.findByTestId("spend-empty")).toHaveTextContent("Nothing recorded this month yet.");
    expect(screen.getByTestId("gauge-month")).toHaveTextContent("€0.00 (no limit)");
    expect(screen.getByTestId("spend-total")).toHaveTextContent("€0.00");
    expect(screen.getByText("No limit is close.")).toBeInTheDocument();
    expect(screen.getByText("Not enough history for a forecast.")).toBeInTheDocument();
    expect(screen.queryByTestId("spend-by-model")).not.toBeInTheDocument();
  });

  it("refreshes on demand and when the panel is shown again", async () => {
    let requests = 1234;
    const ipc = installIpc({ app_info: () => appInfo(), spend_overview: () => spendOverview({ requests }) });
    const ui = (active: boolean) => (
      <PanelActiveContext.Provider value={active}>
        <SpendPanel />
      </PanelActiveContext.Provider>
    );
    const { rerender } = renderWithApp(ui(true));
    expect(await screen.findByTestId("spend-requests")).toHaveTextContent("1,234");
    requests = 1300;
    await userEvent.click(screen.getByTestId("spend-refresh"));
    await waitFor(() => expect(screen.getByTestId("spend-requests")).toHaveTextContent("1,300"));
    const before = ipc.callsTo("spend_overview").length;
    rerender(ui(false));
    requests = 1400;
    expect(ipc.callsTo("spend_overview")).toHaveLength(before);
    await act(async () => rerender(ui(true)));
    await waitFor(() => expect(screen.getByTestId("spend-requests")).toHaveTextContent("1,400"));
    expect(ipc.callsTo("spend_overview")).toHaveLength(before + 1);
  });

  it("exports the month's rows as CSV or JSON to the chosen file", async () => {
    const ipc = backend();
    ipc.on({ "plugin:dialog|save": (a) => `/home/me/spend.${(a as { options: { defaultPath: string } }).options.defaultPath.split(".").pop()}`, spend_export: () => 1234 });
    renderWithApp(<SpendPanel />);
    await userEvent.click(await screen.findByTestId("spend-export-csv"));
    expect(await screen.findByTestId("spend-exported")).toHaveTextContent("1,234 rows written to /home/me/spend.csv.");
    await userEvent.click(screen.getByTestId("spend-export-json"));
    await waitFor(() => expect(screen.getByTestId("spend-exported")).toHaveTextContent("1,234 rows written to /home/me/spend.json."));
    expect(ipc.callsTo("spend_export")).toEqual([
      { path: "/home/me/spend.csv", month: "2026-11", format: "csv" },
      { path: "/home/me/spend.json", month: "2026-11", format: "json" },
    ]);
    const saves = ipc.callsTo("plugin:dialog|save") as Array<{ options: { defaultPath: string; filters: Array<{ extensions: string[] }> } }>;
    expect(saves.map((c) => c.options.defaultPath)).toEqual(["llmaas-spend-2026-11.csv", "llmaas-spend-2026-11.json"]);
    expect(saves[1].options.filters[0].extensions).toEqual(["json"]);
  });

  it("shows an export failure", async () => {
    const ipc = backend();
    ipc.on({
      "plugin:dialog|save": () => "/ro/spend.csv",
      spend_export: () => {
        throw appError("io", "creating the export file: permission denied");
      },
    });
    renderWithApp(<SpendPanel />);
    await userEvent.click(await screen.findByTestId("spend-export-csv"));
    expect(await screen.findByRole("alert")).toHaveTextContent("creating the export file: permission denied");
  });

  it("shows an earlier month as it ended, and exports that month", async () => {
    const october = spendOverview({
      month: "2026-10",
      current: false,
      monthSpend: { used: 3_000_000_000, limit: 20_000_000_000 },
      outputTokensHour: null,
      outputTokensDay: null,
      requests: 12,
      forecast: null,
      alerts: [],
    });
    const ipc = installIpc({
      app_info: () => appInfo(),
      spend_overview: (a) => ((a as { month: string | null }).month === "2026-10" ? october : spendOverview()),
      "plugin:dialog|save": () => "/home/me/october.csv",
      spend_export: () => 12,
    });
    renderWithApp(<SpendPanel />);
    const picker = await screen.findByTestId("spend-month");
    expect(within(picker).getAllByRole("option").map((o) => o.textContent)).toEqual(["November 2026", "October 2026", "September 2026"]);
    expect(screen.getByLabelText("Month")).toBe(picker);
    await userEvent.selectOptions(picker, "2026-10");
    await waitFor(() => expect(screen.getByTestId("gauge-month")).toHaveTextContent("Spend in October 2026"));
    expect(screen.getByTestId("gauge-month")).toHaveTextContent("€3.00 of €20.00");
    expect(screen.queryByTestId("gauge-hour")).not.toBeInTheDocument();
    expect(screen.queryByTestId("gauge-day")).not.toBeInTheDocument();
    expect(screen.queryByTestId("spend-forecast")).not.toBeInTheDocument();
    expect(screen.queryByTestId("spend-alerts")).not.toBeInTheDocument();
    expect(screen.getByText("Requests in October 2026")).toBeInTheDocument();
    expect(screen.getByText("October 2026 · Tier 2")).toBeInTheDocument();
    expect(ipc.callsTo("spend_overview").map((c) => (c as { month: string | null }).month)).toEqual([null, "2026-10"]);
    await userEvent.click(screen.getByTestId("spend-export-csv"));
    await screen.findByTestId("spend-exported");
    expect(ipc.callsTo("spend_export")).toEqual([{ path: "/home/me/october.csv", month: "2026-10", format: "csv" }]);
    // Back to this month: asked as "this month", whichever it is then.
    await userEvent.selectOptions(picker, "2026-11");
    await waitFor(() => expect(screen.getByTestId("gauge-hour")).toBeInTheDocument());
    expect(ipc.callsTo("spend_overview").at(-1)).toEqual({ month: null });
  });

  it("says when nothing was recorded in an earlier month", async () => {
    backend(spendOverview({ month: "2026-09", current: false, requests: 0, byDay: [], byModel: [], byProject: [], forecast: null, alerts: [], outputTokensHour: null, outputTokensDay: null }));
    renderWithApp(<SpendPanel />);
    expect(await screen.findByTestId("spend-empty")).toHaveTextContent("Nothing was recorded in September 2026.");
  });

  it("shows a ledger error", async () => {
    installIpc({
      app_info: () => appInfo(),
      spend_overview: () => {
        throw appError("io", "the spend ledger failed: disk I/O error");
      },
    });
    renderWithApp(<SpendPanel />);
    expect(await screen.findByRole("alert")).toHaveTextContent("the spend ledger failed: disk I/O error");
  });
});

describe("gauge tone", () => {
  it("warns from 80 % and alarms from 95 %", () => {
    expect(gaugeTone(79)).toBe("ok");
    expect(gaugeTone(80)).toBe("warn");
    expect(gaugeTone(95)).toBe("danger");
    expect(gaugeTone(140)).toBe("danger");
  });
});

describe("the daily chart's axis", () => {
  it("shows enough decimals for small days to read above zero", async () => {
    const { axisDigits } = await import("./DailyChart");
    expect(axisDigits([])).toBe(2);
    expect(axisDigits([{ nanos: 25_000 }])).toBe(6); // 0.000025 €
    expect(axisDigits([{ nanos: 1_500_000 }, { nanos: 20 }])).toBe(4); // 0.0015 €
    expect(axisDigits([{ nanos: 2_000_000_000 }])).toBe(2); // 2 €
  });
});
