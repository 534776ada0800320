/** Stored items, their generations and the feedback on them. */
import { useState } from "react";
import { enc, request } from "../api";
import { Markdown } from "../components/Markdown";
import { useLoad } from "../hooks";
import { navigate, useLocation } from "../router";
import type { Feedback, Generation, Item, Page } from "../types";

const promptText = (p: Item["prompt"]) => (typeof p === "string" ? p : p.map((m) => `${m.role}: ${m.content}`).join("\n"));

function short(v: Record<string, unknown>, kind: string): string {
  switch (kind) {
    case "pairwise":
      return `${v.choice}${typeof v.strength === "number" ? ` (strength ${(v.strength as number).toFixed(2)})` : ""}`;
    case "rating":
      return `${v.score} on ${(v.scale as { min: number; max: number }).min}–${(v.scale as { min: number; max: number }).max}${v.dimension ? ` (${v.dimension})` : ""}`;
    case "binary":
      return v.ok ? "yes" : "no";
    case "spans":
      return (v.spans as { label: string }[]).map((s) => s.label).join(", ") || "no spans";
    case "correction":
      return `edit: ${String(v.output).slice(0, 80)}`;
    case "critique":
      return `${v.verdict ?? ""} ${String(v.text ?? "").slice(0, 80)}`;
    default:
      return JSON.stringify(v).slice(0, 100);
  }
}

function ItemDetail({ id }: { id: string }) {
  const { data, error } = useLoad(
    async (signal) => {
      const [item, gens, fb] = await Promise.all([
        request<Item>(`/v1/items/${enc(id)}`, { signal }),
        request<Page<Generation>>(`/v1/generations?itemId=${enc(id)}&limit=100`, { signal }),
        request<Page<Feedback>>(`/v1/feedback?itemId=${enc(id)}&limit=200`, { signal }),
      ]);
      return { item, gens: gens.records, feedback: fb.records };
    },
    [id],
  );
  if (error)
    return (
      <p className="error" role="alert">
        {error}
      </p>
    );
  if (!data) return <p role="status">Loading…</p>;
  return (
    <article aria-labelledby="item-title">
      <h2 id="item-title">
        Item <code>{data.item.id}</code>
      </h2>
      <div className="prompt-box">
        <Markdown text={promptText(data.item.prompt)} />
      </div>
      <div className="outputs two">
        {data.gens.map((g) => (
          <section key={g.id} className="output" aria-label={`Output of ${g.policy}`}>
            <h3>{g.policy}</h3>
            <Markdown text={g.output} />
            <ul className="feedback-list">
              {data.feedback
                .filter((f) => f.targets.includes(g.id))
                .map((f) => (
                  <li key={f.id}>
                    <span className="tag">{f.kind}</span> {f.source.type}:{f.source.id} — {f.targets.length > 1 ? `[${f.targets.indexOf(g.id) + 1} of ${f.targets.length}] ` : ""}
                    {short(f.value, f.kind)}
                  </li>
                ))}
            </ul>
          </section>
        ))}
      </div>
    </article>
  );
}

export function Browse() {
  const url = useLocation();
  const selected = url.searchParams.get("item");
  const [cursor, setCursor] = useState<string | undefined>();
  const [history, setHistory] = useState<(string | undefined)[]>([]);
  const { data, error } = useLoad((signal) => request<Page<Item>>(`/v1/items?limit=25${cursor ? `&cursor=${enc(cursor)}` : ""}`, { signal }), [cursor]);
  return (
    <section className="browse">
      <h1>Browse</h1>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <div className="split">
        <nav aria-label="Items">
          <ul className="item-list">
            {(data?.records ?? []).map((i) => (
              <li key={i.id}>
                <a
                  href={`/browse?item=${enc(i.id)}`}
                  aria-current={selected === i.id ? "true" : undefined}
                  onClick={(e) => {
                    e.preventDefault();
                    navigate(`/browse?item=${enc(i.id)}`);
                  }}
                >
                  <strong>{i.id}</strong> <span className="muted">{promptText(i.prompt).slice(0, 70)}</span>
                </a>
              </li>
            ))}
          </ul>
          <div className="row">
            <button
              type="button"
              className="secondary"
              disabled={history.length === 0}
              onClick={() => {
                setCursor(history[history.length - 1]);
                setHistory(history.slice(0, -1));
              }}
            >
              Previous
            </button>
            <button
              type="button"
              className="secondary"
              disabled={!data?.nextCursor}
              onClick={() => {
                setHistory([...history, cursor]);
                setCursor(data?.nextCursor);
              }}
            >
              Next
            </button>
          </div>
        </nav>
        <div>{selected ? <ItemDetail id={selected} /> : <p className="muted">Choose an item to see its outputs and feedback.</p>}</div>
      </div>
    </section>
  );
}
