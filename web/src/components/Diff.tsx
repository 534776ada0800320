/** A word-level diff between an output and its correction, readable without colour too. */
import { diffWordsWithSpace } from "diff";
import { useMemo } from "react";

export function Diff({ before, after }: { before: string; after: string }) {
  const parts = useMemo(() => diffWordsWithSpace(before, after), [before, after]);
  const changed = parts.some((p) => p.added || p.removed);
  const added = parts.filter((p) => p.added).reduce((n, p) => n + p.value.length, 0);
  const removed = parts.filter((p) => p.removed).reduce((n, p) => n + p.value.length, 0);
  return (
    <div className="diff" data-testid="correction-diff">
      <p className="diff-summary" aria-live="polite">
        {changed ? `${added} characters added, ${removed} removed` : "No changes yet"}
      </p>
      <div className="plain diff-body">
        {parts.map((p, i) =>
          p.added ? (
            <ins key={i}>
              <span className="sr-only">[added: </span>
              {p.value}
              <span className="sr-only">]</span>
            </ins>
          ) : p.removed ? (
            <del key={i}>
              <span className="sr-only">[removed: </span>
              {p.value}
              <span className="sr-only">]</span>
            </del>
          ) : (
            <span key={i}>{p.value}</span>
          ),
        )}
      </div>
    </div>
  );
}
