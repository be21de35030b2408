// Markdown as the models write it: GitHub tables, task lists and fenced code
// (highlighted in chat). A link opens in the system's browser (the back end
// checks it is a web or mail link); the window itself never follows one.
import { useRef, type ReactNode } from "react";
import ReactMarkdown, { type Components } from "react-markdown";
import { CopyButton } from "../../components/CopyButton";
import { useT } from "../../i18n";
import { call, commands } from "../../ipc";
import rehypeHighlight from "rehype-highlight";
import remarkGfm from "remark-gfm";
import "./markdown.css";

/** A fenced block with a button that copies its code as written. */
function CodeBlock({ children }: { children?: ReactNode }) {
  const t = useT();
  const pre = useRef<HTMLPreElement>(null);
  return (
    <div className="md-code">
      <CopyButton
        className="button md-code-copy"
        testId="md-code-copy"
        label={t("chat.copyCode")}
        text={() => pre.current?.textContent ?? ""}
      />
      <pre ref={pre}>{children}</pre>
    </div>
  );
}

const components: Components = {
  pre: ({ children }) => <CodeBlock>{children}</CodeBlock>,
  a: ({ href, children }) => (
    <a
      href={href}
      title={href}
      rel="noreferrer noopener"
      onClick={(e) => {
        e.preventDefault();
        if (href) call(commands.openLink(href)).catch(() => {});
      }}
    >
      {children}
    </a>
  ),
  // Remote images would be blocked by the CSP anyway; show the text instead.
  img: ({ alt, src }) => <span className="md-image">{alt || (typeof src === "string" ? src : "")}</span>,
};

const REMARK = [remarkGfm];
const REHYPE_HIGHLIGHT = [rehypeHighlight];

export function Markdown({ text, highlight = true }: { text: string; highlight?: boolean }) {
  return (
    <div className="markdown">
      <ReactMarkdown
        remarkPlugins={REMARK}
        rehypePlugins={highlight ? REHYPE_HIGHLIGHT : []}
        components={components}
      >
        {text}
      </ReactMarkdown>
    </div>
  );
}
