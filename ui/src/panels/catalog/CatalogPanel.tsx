// The catalogue: every cloud model and local model file in one searchable,
// filterable, sortable table; a row opens its details; local GGUF import,
// and the curated local models to download (Downloads).
import { useId, useMemo, useState, type KeyboardEvent } from "react";
import type { CatalogRow } from "../../bindings";
import { ErrorBanner } from "../../components/ErrorBanner";
import { chooseFile } from "../../dialogs";
import { formatBytes, formatContext, formatDate, formatPrice } from "../../format";
import { useI18n, type Key } from "../../i18n";
import { call, commands, toIpcError, type IpcError } from "../../ipc";
import { useLoad } from "../../useLoad";
import { capabilityLabel, statusLabel } from "./labels";
import { capabilitiesOf, matches, NO_FILTERS, retireDate, sortRows, statusTone, type Filters, type Sort, type SortColumn, type SourceFilter } from "./model";
import { Downloads, DOWNLOADS_ID } from "./Downloads";
import { ModelDetails } from "./ModelDetails";

const COLUMNS: ReadonlyArray<{ id: SortColumn; label: Key; numeric?: boolean }> = [
  { id: "name", label: "catalog.col.name" },
  { id: "source", label: "catalog.col.source" },
  { id: "capabilities", label: "catalog.col.capabilities" },
  { id: "size", label: "catalog.col.size", numeric: true },
  { id: "context", label: "catalog.col.context", numeric: true },
  { id: "priceIn", label: "catalog.col.priceIn", numeric: true },
  { id: "priceOut", label: "catalog.col.priceOut", numeric: true },
  { id: "status", label: "catalog.col.status" },
  { id: "retireDate", label: "catalog.col.retireDate" },
];

export function CatalogPanel() {
  const { t, lang } = useI18n();
  const ids = { search: useId(), cap: useId(), source: useId(), retired: useId(), link: useId() };
  const catalog = useLoad(() => call(commands.catalogList()));
  const [filters, setFilters] = useState<Filters>(NO_FILTERS);
  const [sort, setSort] = useState<Sort>({ column: "name", descending: false });
  const [selected, setSelected] = useState<string | null>(null);
  const [link, setLink] = useState(false);
  const [importing, setImporting] = useState(false);
  const [importError, setImportError] = useState<IpcError | null>(null);
  const [imported, setImported] = useState<{ id: string; downloaded: boolean } | null>(null);

  const all = useMemo(() => catalog.data ?? [], [catalog.data]);
  const byId = useMemo(() => new Map(all.map((r) => [r.id, r])), [all]);
  const caps = useMemo(() => capabilitiesOf(all), [all]);
  const shown = useMemo(() => sortRows(all.filter((r) => matches(r, filters)), sort), [all, filters, sort]);
  const selectedRow = selected === null ? undefined : byId.get(selected);

  const setFilter = <K extends keyof Filters>(k: K, v: Filters[K]) => setFilters((f) => ({ ...f, [k]: v }));
  const toggleSort = (column: SortColumn) =>
    setSort((s) => (s.column === column ? { column, descending: !s.descending } : { column, descending: false }));

  const importModel = async () => {
    setImportError(null);
    setImported(null);
    try {
      const path = await chooseFile(t("catalog.import"), [{ name: "GGUF", extensions: ["gguf"] }]);
      if (!path) return;
      setImporting(true);
      const row = await call(commands.modelImport(path, link));
      catalog.set([...all.filter((r) => r.id !== row.id), row]);
      setImported({ id: row.id, downloaded: false });
      void catalog.reload();
    } catch (e) {
      setImportError(toIpcError(e));
    } finally {
      setImporting(false);
    }
  };

  const onRowKey = (e: KeyboardEvent, id: string) => {
    if (e.key === "Enter" || e.key === " ") {
      e.preventDefault();
      setSelected(id);
    }
  };

  return (
    <section className="panel">
      <header className="panel-header">
        <h1>{t("catalog.title")}</h1>
        <span className="spacer" />
        <label className="inline" htmlFor={ids.link}>
          <input id={ids.link} type="checkbox" checked={link} onChange={(e) => setLink(e.target.checked)} />
          {t("catalog.importLink")}
        </label>
        <button type="button" className="button" data-testid="catalog-import" disabled={importing} onClick={() => void importModel()}>
          {importing ? t("catalog.importing") : t("catalog.import")}
        </button>
        <button
          type="button"
          className="button"
          data-testid="catalog-to-downloads"
          onClick={() => document.getElementById(DOWNLOADS_ID)?.scrollIntoView({ behavior: "smooth", block: "start" })}
        >
          {t("catalog.downloads.jump")}
        </button>
        <button type="button" className="button" data-testid="catalog-refresh" onClick={() => void catalog.reload()}>
          {t("common.refresh")}
        </button>
      </header>

      {imported && (
        <p className="banner banner-ok" role="status" data-testid="catalog-imported">
          {t(imported.downloaded ? "catalog.downloads.downloaded" : "catalog.imported", { id: imported.id })}
        </p>
      )}
      {importError && <ErrorBanner error={importError} />}
      {catalog.error && <ErrorBanner error={catalog.error} onRetry={() => void catalog.reload()} />}

      <div className="toolbar" role="search">
        <label className="visually-hidden" htmlFor={ids.search}>
          {t("catalog.search")}
        </label>
        <input
          id={ids.search}
          type="search"
          data-testid="catalog-search"
          placeholder={t("catalog.searchPlaceholder")}
          value={filters.search}
          onChange={(e) => setFilter("search", e.target.value)}
        />
        <label htmlFor={ids.cap}>{t("catalog.capability")}</label>
        <select id={ids.cap} data-testid="catalog-capability" value={filters.capability} onChange={(e) => setFilter("capability", e.target.value)}>
          <option value="">{t("catalog.anyCapability")}</option>
          {caps.map((c) => (
            <option key={c} value={c}>
              {capabilityLabel(t, c)}
            </option>
          ))}
        </select>
        <label htmlFor={ids.source}>{t("catalog.source")}</label>
        <select
          id={ids.source}
          data-testid="catalog-source"
          value={filters.source}
          onChange={(e) => setFilter("source", e.target.value as SourceFilter)}
        >
          <option value="all">{t("catalog.sourceAll")}</option>
          <option value="cloud">{t("catalog.sourceCloud")}</option>
          <option value="local">{t("catalog.sourceLocal")}</option>
        </select>
        <label className="inline" htmlFor={ids.retired}>
          <input
            id={ids.retired}
            type="checkbox"
            data-testid="catalog-show-retired"
            checked={filters.showRetired}
            onChange={(e) => setFilter("showRetired", e.target.checked)}
          />
          {t("catalog.showRetired")}
        </label>
        <span className="muted" data-testid="catalog-count" aria-live="polite">
          {t("catalog.count", { shown: shown.length, total: all.length })}
        </span>
      </div>

      {catalog.loading && !catalog.data ? (
        <p>{t("common.loading")}</p>
      ) : (
        <div className="table-wrap">
          <table className="table" data-testid="catalog-table">
            <thead>
              <tr>
                {COLUMNS.map((c) => {
                  const active = sort.column === c.id;
                  return (
                    <th
                      key={c.id}
                      className={c.numeric ? "num" : undefined}
                      aria-sort={active ? (sort.descending ? "descending" : "ascending") : "none"}
                    >
                      <button
                        type="button"
                        className="sort-button"
                        data-testid={`sort-${c.id}`}
                        aria-label={t("catalog.sortBy", { column: t(c.label) })}
                        onClick={() => toggleSort(c.id)}
                      >
                        {t(c.label)}
                        {active && <span aria-hidden="true">{sort.descending ? " ▼" : " ▲"}</span>}
                      </button>
                    </th>
                  );
                })}
              </tr>
            </thead>
            <tbody>
              {shown.map((r) => (
                <tr
                  key={`${r.source}:${r.id}`}
                  className={r.status === "retired" || r.status === "unusable" ? "clickable dim" : "clickable"}
                  data-testid="catalog-row"
                  data-model-id={r.id}
                  tabIndex={0}
                  aria-label={r.id}
                  onClick={() => setSelected(r.id)}
                  onKeyDown={(e) => onRowKey(e, r.id)}
                >
                  {cells(r)}
                </tr>
              ))}
            </tbody>
          </table>
          {shown.length === 0 && !catalog.loading && <p className="muted" style={{ padding: "0.8rem" }}>{t("catalog.empty")}</p>}
        </div>
      )}

      <Downloads
        onDownloaded={(row) => {
          catalog.set([...all.filter((r) => r.id !== row.id), row]);
          setImported({ id: row.id, downloaded: true });
        }}
      />

      {selectedRow && (
        <ModelDetails row={selectedRow} known={(id) => byId.has(id)} onSelect={setSelected} onClose={() => setSelected(null)} />
      )}
    </section>
  );

  function cells(row: CatalogRow) {
    const size = [row.sizeBytes === null ? null : formatBytes(row.sizeBytes, lang), row.parameters || null].filter(Boolean).join(" · ");
    const price = (n: number | null) => (n === null ? "—" : n === 0 && row.source === "local" ? t("catalog.free") : formatPrice(n, lang));
    const retire = retireDate(row);
    return (
      <>
        <td>
          <strong>{row.id}</strong>
          {row.aliases.length > 0 && <div className="muted">{row.aliases.join(", ")}</div>}
        </td>
        <td>{row.source === "cloud" ? t("catalog.sourceCloud") : t("catalog.sourceLocal")}</td>
        <td>
          <span className="badges">
            {row.capabilities.map((c) => (
              <span key={c} className="badge" data-capability={c}>
                {capabilityLabel(t, c)}
              </span>
            ))}
          </span>
        </td>
        <td className="num">{size || "—"}</td>
        <td className="num">{row.context === null ? "—" : formatContext(row.context, lang)}</td>
        <td className="num">{price(row.inputPerMillionNanos)}</td>
        <td className="num">{price(row.outputPerMillionNanos)}</td>
        <td>
          <span className={`badge badge-${statusTone(row.status)}`}>{statusLabel(t, row.status)}</span>
        </td>
        <td>{retire ? formatDate(retire, lang) : "—"}</td>
      </>
    );
  }
}
