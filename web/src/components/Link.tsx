import type { AnchorHTMLAttributes } from "react";
import { onLink } from "../router";

export function Link(props: AnchorHTMLAttributes<HTMLAnchorElement> & { href: string }) {
  return <a {...props} onClick={onLink} />;
}
