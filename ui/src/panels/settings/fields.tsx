// Labelled form rows for the settings grid.
import { useId, type ReactNode } from "react";

interface Base {
  label: string;
  hint?: string;
  testId?: string;
}

export function TextRow({
  label,
  hint,
  testId,
  value,
  onChange,
  list,
  inputMode,
  placeholder,
  after,
}: Base & {
  value: string;
  onChange: (v: string) => void;
  list?: string;
  inputMode?: "numeric" | "decimal" | "url";
  placeholder?: string;
  after?: ReactNode;
}) {
  const id = useId();
  const input = (
    <input
      id={id}
      type="text"
      data-testid={testId}
      value={value}
      list={list}
      inputMode={inputMode}
      placeholder={placeholder}
      spellCheck={false}
      onChange={(e) => onChange(e.target.value)}
    />
  );
  return (
    <>
      <label htmlFor={id}>{label}</label>
      {after ? (
        <div className="inline">
          {input}
          {after}
        </div>
      ) : (
        input
      )}
      {hint && <p className="field-hint">{hint}</p>}
    </>
  );
}

export function TextAreaRow({
  label,
  hint,
  testId,
  value,
  onChange,
  placeholder,
  maxLength,
}: Base & { value: string; onChange: (v: string) => void; placeholder?: string; maxLength?: number }) {
  const id = useId();
  return (
    <>
      <label htmlFor={id}>{label}</label>
      <textarea
        id={id}
        data-testid={testId}
        value={value}
        rows={3}
        maxLength={maxLength}
        placeholder={placeholder}
        onChange={(e) => onChange(e.target.value)}
      />
      {hint && <p className="field-hint">{hint}</p>}
    </>
  );
}

export function SelectRow<V extends string>({
  label,
  hint,
  testId,
  value,
  options,
  onChange,
}: Base & { value: V; options: ReadonlyArray<{ value: V; label: string }>; onChange: (v: V) => void }) {
  const id = useId();
  return (
    <>
      <label htmlFor={id}>{label}</label>
      <select id={id} data-testid={testId} value={value} onChange={(e) => onChange(e.target.value as V)}>
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
      {hint && <p className="field-hint">{hint}</p>}
    </>
  );
}

export function CheckRow({
  label,
  testId,
  checked,
  onChange,
}: Base & { checked: boolean; onChange: (v: boolean) => void }) {
  const id = useId();
  return (
    <>
      <label htmlFor={id}>{label}</label>
      <div>
        <input id={id} type="checkbox" data-testid={testId} checked={checked} onChange={(e) => onChange(e.target.checked)} />
      </div>
    </>
  );
}
