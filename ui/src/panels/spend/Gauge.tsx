// A figure against its limit: the value, a bar, and a meter role for
// assistive technology. No limit: the value alone.
import { percentOf } from "../../format";
import { useT } from "../../i18n";

interface Props {
  label: string;
  used: number;
  limit: number | null;
  format: (n: number) => string;
  testId: string;
}

export function gaugeTone(percent: number): "ok" | "warn" | "danger" {
  if (percent >= 95) return "danger";
  if (percent >= 80) return "warn";
  return "ok";
}

export function Gauge({ label, used, limit, format, testId }: Props) {
  const t = useT();
  const percent = percentOf(used, limit);
  const text = limit === null ? t("spend.noLimit", { used: format(used) }) : t("spend.ofLimit", { used: format(used), limit: format(limit) });
  return (
    <div className="card gauge" data-testid={testId} data-percent={limit === null ? undefined : percent}>
      <h2>{label}</h2>
      <div className="gauge-value">{text}</div>
      {limit !== null && (
        <>
          <div
            className="gauge-bar"
            role="meter"
            aria-label={label}
            aria-valuemin={0}
            aria-valuemax={100}
            aria-valuenow={Math.min(percent, 100)}
            aria-valuetext={`${percent} %`}
          >
            <div className={`gauge-fill ${gaugeTone(percent)}`} style={{ width: `${Math.min(percent, 100)}%` }} />
          </div>
          <div className="muted">{percent} %</div>
        </>
      )}
    </div>
  );
}
