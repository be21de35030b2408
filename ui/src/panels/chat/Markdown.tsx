// Markdown as the models write it: GitHub tables, task lists and fenced code
// (highlighted in chat). Links are shown, not followed: a click would take the
// whole window away from the app.
import ReactMarkdown, { type Components } from "react-markdown";
import rehypeHighlight from "rehype-highlight";
import remarkGfm from "remark-gfm";
import "./markdown.css";

const components: Components = {
  a: ({ href, children }) => (
    <a href={href} title={href} onClick={(e) => e.preventDefault()} rel="noreferrer noopener">
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
