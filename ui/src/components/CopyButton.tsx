// A button that copies text and says, for two seconds, that it did (or why
// it could not), without moving anything around it.
import { useEffect, useState } from "react";
import { copyText } from "../clipboard";
import { useT } from "../i18n";
import { toIpcError } from "../ipc";

interface Props {
  /** Read at the click: a code block's text, an answer as it is now. */
  text: () => string;
  label: string;
  testId?: string;
  className?: string;
}

export function CopyButton({ text, label, testId, className = "button" }: Props) {
  const t = useT();
  const [state, setState] = useState<{ ok: boolean; message: string } | null>(null);
  useEffect(() => {
    if (!state) return;
    const timer = setTimeout(() => setState(null), 2000);
    return () => clearTimeout(timer);
  }, [state]);
  const copy = async () => {
    try {
      await copyText(text());
      setState({ ok: true, message: t("chat.copied") });
    } catch (e) {
      setState({ ok: false, message: t("chat.copyFailed", { message: toIpcError(e).message }) });
    }
  };
  return (
    <button
      type="button"
      className={className}
      data-testid={testId}
      data-copied={state?.ok ? "true" : undefined}
      title={state?.message ?? label}
      onClick={() => void copy()}
    >
      <span aria-live="polite">{state ? state.message : label}</span>
    </button>
  );
}
