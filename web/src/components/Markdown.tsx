/** Model outputs as Markdown (GFM), sanitized; or as the exact text. */
import DOMPurify from "dompurify";
import { marked } from "marked";
import { useMemo } from "react";

let hooked = false;
function sanitize(html: string): string {
  if (!hooked) {
    hooked = true;
    // Links open in a new tab and leak nothing about this page.
    DOMPurify.addHook("afterSanitizeAttributes", (node) => {
      if (node.tagName === "A") {
        node.setAttribute("target", "_blank");
        node.setAttribute("rel", "noopener noreferrer");
      }
    });
  }
  return DOMPurify.sanitize(html, { USE_PROFILES: { html: true }, FORBID_TAGS: ["style", "form", "input", "button"], FORBID_ATTR: ["style"] });
}

export function renderMarkdown(text: string): string {
  return sanitize(marked.parse(text, { async: false, gfm: true, breaks: true }) as string);
}

export function Markdown({ text, className }: { text: string; className?: string }) {
  const html = useMemo(() => renderMarkdown(text), [text]);
  return <div className={`markdown ${className ?? ""}`} dangerouslySetInnerHTML={{ __html: html }} />;
}

export function PlainText({ text }: { text: string }) {
  return <div className="plain">{text}</div>;
}
