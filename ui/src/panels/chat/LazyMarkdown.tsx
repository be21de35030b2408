// The markdown renderer (react-markdown, GFM, highlight.js) is most of the
// window's JavaScript: it loads with the first answer or OCR page, not at
// start, which keeps the idle window's memory and start time down.
import { lazy, Suspense } from "react";

const Markdown = lazy(() => import("./Markdown").then((m) => ({ default: m.Markdown })));

export function LazyMarkdown({ text, highlight = true }: { text: string; highlight?: boolean }) {
  return (
    <Suspense fallback={<div className="markdown markdown-loading">{text}</div>}>
      <Markdown text={text} highlight={highlight} />
    </Suspense>
  );
}
