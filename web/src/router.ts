/** A small history-API router: the server answers every page path with index.html. */
import { useEffect, useState } from "react";

export function navigate(to: string, replace = false): void {
  if (replace) history.replaceState(null, "", to);
  else history.pushState(null, "", to);
  window.dispatchEvent(new Event("rlxf:navigate"));
  window.scrollTo(0, 0);
}

export function useLocation(): URL {
  const [url, setUrl] = useState(() => new URL(location.href));
  useEffect(() => {
    const update = () => setUrl(new URL(location.href));
    window.addEventListener("popstate", update);
    window.addEventListener("rlxf:navigate", update);
    return () => {
      window.removeEventListener("popstate", update);
      window.removeEventListener("rlxf:navigate", update);
    };
  }, []);
  return url;
}

/** Matches `/queues/:id/annotate` style patterns; params are decoded. */
export function match(pattern: string, path: string): Record<string, string> | null {
  const p = pattern.split("/").filter(Boolean);
  const s = path.split("/").filter(Boolean);
  if (p.length !== s.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < p.length; i++) {
    const pp = p[i]!;
    if (pp.startsWith(":")) {
      try {
        params[pp.slice(1)] = decodeURIComponent(s[i]!);
      } catch {
        return null;
      }
    } else if (pp !== s[i]) return null;
  }
  return params;
}

/** An in-app link: plain clicks navigate without a reload; modified clicks open normally. */
export function onLink(e: React.MouseEvent<HTMLAnchorElement>): void {
  if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  navigate(e.currentTarget.getAttribute("href") ?? "/");
}
