// The route picker the chat and the meetings share: auto, cloud or local,
// with the same words everywhere.
import type { PolicyChoice } from "../bindings";
import { useT } from "../i18n";

export const POLICIES: readonly PolicyChoice[] = ["auto", "cloud", "local"];

type Props = {
  testId: string;
  value: PolicyChoice;
  onChange: (p: PolicyChoice) => void;
  disabled?: boolean;
};

export function RouteSelect({ testId, value, onChange, disabled }: Props) {
  const t = useT();
  return (
    <select data-testid={testId} value={value} disabled={disabled} onChange={(e) => onChange(e.target.value as PolicyChoice)}>
      {POLICIES.map((p) => (
        <option key={p} value={p}>
          {t(`chat.route.option.${p}`)}
        </option>
      ))}
    </select>
  );
}
