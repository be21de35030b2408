// The message box: Enter sends, Shift+Enter starts a new line; images are
// read as data URLs and shown before sending.
import { useRef, useState, type KeyboardEvent } from "react";
import { useT } from "../../i18n";
import { Icon } from "../../components/Icon";

export const IMAGE_TYPES = ["image/png", "image/jpeg", "image/webp"];
/** The backend refuses more; say so before reading the file. */
const MAX_IMAGE_BYTES = 15 * 1024 * 1024;

export function readAsDataUrl(file: Blob): Promise<string> {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result));
    reader.onerror = () => reject(reader.error ?? new Error("unreadable file"));
    reader.readAsDataURL(file);
  });
}

interface ComposerProps {
  busy: boolean;
  /** A model is chosen. */
  ready: boolean;
  /** The chosen model reads images. */
  vision: boolean;
  onSend: (text: string, images: string[]) => boolean;
  onStop: () => void;
}

export function Composer({ busy, ready, vision, onSend, onStop }: ComposerProps) {
  const t = useT();
  const [text, setText] = useState("");
  const [images, setImages] = useState<string[]>([]);
  const [problem, setProblem] = useState<string | null>(null);
  const fileInput = useRef<HTMLInputElement>(null);

  const canSend = ready && !busy && (text.trim() !== "" || images.length > 0);

  const submit = () => {
    if (!canSend) return;
    if (onSend(text, images)) {
      setText("");
      setImages([]);
      setProblem(null);
    }
  };

  const onKeyDown = (e: KeyboardEvent<HTMLTextAreaElement>) => {
    if (e.key === "Enter" && !e.shiftKey && !e.nativeEvent.isComposing) {
      e.preventDefault();
      submit();
    }
  };

  const attach = async (files: FileList | null) => {
    if (!files) return;
    const read: string[] = [];
    for (const f of Array.from(files)) {
      if (!IMAGE_TYPES.includes(f.type)) {
        setProblem(t("chat.image.badType", { name: f.name }));
        continue;
      }
      if (f.size > MAX_IMAGE_BYTES) {
        setProblem(t("chat.image.tooBig", { name: f.name }));
        continue;
      }
      try {
        read.push(await readAsDataUrl(f));
      } catch {
        setProblem(t("chat.image.unreadable", { name: f.name }));
      }
    }
    if (read.length > 0) setImages((prev) => [...prev, ...read]);
    if (fileInput.current) fileInput.current.value = "";
  };

  return (
    <div className="chat-composer">
      {images.length > 0 && (
        <ul className="chat-attachments" aria-label={t("chat.image.list")}>
          {images.map((src, i) => (
            <li key={i} className="chat-attachment">
              <img src={src} alt={t("chat.image.attached", { n: i + 1 })} className="chat-thumb" data-testid="chat-attachment" />
              <button
                type="button"
                className="icon-button"
                aria-label={t("chat.image.remove", { n: i + 1 })}
                onClick={() => setImages((prev) => prev.filter((_, j) => j !== i))}
              >
                ×
              </button>
            </li>
          ))}
        </ul>
      )}
      {images.length > 0 && !vision && (
        <div className="banner banner-warn" data-testid="chat-vision-warning">
          {t("chat.image.noVision")}
        </div>
      )}
      {problem && (
        <div className="banner banner-warn" role="status">
          {problem}
        </div>
      )}
      <div className="chat-compose-row">
        <textarea
          data-testid="chat-input"
          className="chat-input"
          aria-label={t("chat.input")}
          placeholder={t("chat.placeholder")}
          rows={3}
          value={text}
          onChange={(e) => setText(e.target.value)}
          onKeyDown={onKeyDown}
        />
        <div className="chat-compose-buttons">
          <input
            ref={fileInput}
            type="file"
            accept={IMAGE_TYPES.join(",")}
            multiple
            hidden
            data-testid="chat-image-input"
            aria-label={t("chat.image.attach")}
            onChange={(e) => void attach(e.target.files)}
          />
          <button
            type="button"
            className="button"
            data-testid="chat-attach"
            disabled={!vision}
            title={vision ? t("chat.image.attach") : t("chat.image.noVisionShort")}
            aria-label={vision ? t("chat.image.attach") : t("chat.image.noVisionShort")}
            onClick={() => fileInput.current?.click()}
          >
            <Icon name="image" />
          </button>
          {busy ? (
            <button
              type="button"
              className="button button-danger"
              data-testid="chat-stop"
              aria-keyshortcuts="Escape"
              onClick={onStop}
            >
              {t("chat.stop")}
            </button>
          ) : (
            <button
              type="button"
              className="button button-primary"
              data-testid="chat-send"
              aria-keyshortcuts="Enter"
              disabled={!canSend}
              onClick={submit}
            >
              {t("chat.send")}
            </button>
          )}
        </div>
      </div>
      <p className="chat-hint muted">{t("chat.keys")}</p>
    </div>
  );
}
