// Markdown as the models write it: GitHub tables, task lists and fenced code
// (highlighted in chat). A link opens in the system's browser (the back end
// checks it is a web or mail link); the window itself never follows one.
import ReactMarkdown, { type Components } from "react-markdown";
import { call, commands } from "../../ipc";
import rehypeHighlight from "rehype-highlight";
import remarkGfm from "remark-gfm";
import "./markdown.css";

const components: Components = {
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
