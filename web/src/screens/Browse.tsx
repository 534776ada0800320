/** Stored items, their generations and the feedback on them; a search narrows the list (text, metadata, policy, feedback, disagreement). */
import { useState } from "react";
import { enc, request } from "../api";
import { Markdown } from "../components/Markdown";
import { useLoad } from "../hooks";
import { navigate, useLocation } from "../router";
import type { SearchPage } from "../../../src/api/index.js";
import type { Feedback, Generation, Item, Page } from "../types";

const KINDS = ["pairwise", "ranking", "rating", "binary", "critique", "spans", "correction", "rubric", "verification", "signal"];
const SOURCES = ["human", "judge", "critic", "verifier", "simulated", "user"];
type Filters = Record<"q" | "policy" | "metadata" | "kind" | "sourceType" | "value" | "disagreement", string>;
const NO_FILTERS: Filters = { q: "", policy: "", metadata: "", kind: "", sourceType: "", value: "", disagreement: "" };

/** The search in the page's address (`/browse?q=...&kind=rating`): a reload, a shared link or Back shows the same list. */
function filtersOf(params: URLSearchParams): Filters {
  const f = { ...NO_FILTERS };
  for (const k of Object.keys(NO_FILTERS) as (keyof Filters)[]) f[k] = params.get(k) ?? "";
  return f;
}

const queryOf = (f: Filters) => new URLSearchParams(Object.entries(f).filter(([, v]) => v.trim() !== "").map(([k, v]) => [k, v.trim()])).toString();

function SearchForm({ initial, onSearch }: { initial: Filters; onSearch: (f: Filters) => void }) {
  const [f, setF] = useState<Filters>(initial);
  const field = (k: keyof Filters, label: string, placeholder = "") => (
    <div className="search-field">
      <label htmlFor={`s-${k}`}>{label}</label>
      <input id={`s-${k}`} value={f[k]} placeholder={placeholder} onChange={(e) => setF({ ...f, [k]: e.target.value })} />
    </div>
  );
  const choose = (k: keyof Filters, label: string, options: [string, string][]) => (
    <div className="search-field">
      <label htmlFor={`s-${k}`}>{label}</label>
      <select id={`s-${k}`} value={f[k]} onChange={(e) => setF({ ...f, [k]: e.target.value })}>
        {options.map(([v, l]) => (
          <option key={v} value={v}>
            {l}
          </option>
        ))}
      </select>
    </div>
  );
  return (
    <form
      className="search"
      role="search"
      aria-label="Search items"
      onSubmit={(e) => {
        e.preventDefault();
        onSearch(f);
      }}
    >
      <div className="search-fields">
        {field("q", "Text", "words in the prompt or an output")}
        {field("policy", "Policy", "model name")}
        {field("metadata", "Metadata", "key=value")}
        {choose("kind", "Feedback kind", [["", "any"], ...KINDS.map((k) => [k, k] as [string, string])])}
        {choose("sourceType", "Feedback source", [["", "any"], ...SOURCES.map((k) => [k, k] as [string, string])])}
        {field("value", "Feedback value", "score>=4, choice=tie, ok=false")}
        {choose("disagreement", "Disagreement", [
          ["", "not required"],
          ["any", "feedback disagrees"],
          ["human-judge", "a human against a judge"],
        ])}
      </div>
      <p className="actions">
        <button type="submit">Search</button>
        <button
          type="button"
          className="secondary"
          onClick={() => {
            setF(NO_FILTERS);
            onSearch(NO_FILTERS);
          }}
        >
          Clear
        </button>
      </p>
    </form>
  );
}

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
  const filters = filtersOf(url.searchParams);
  const query = queryOf(filters);
  // The page of results (a cursor, and the ones before it for Previous) belongs to one search: another starts on its first page.
  const [paging, setPaging] = useState<{ query: string; cursor?: string; history: (string | undefined)[] }>({ query, history: [] });
  const { cursor, history } = paging.query === query ? paging : { cursor: undefined, history: [] as (string | undefined)[] };
  const setPage = (next: string | undefined, before: (string | undefined)[]) => setPaging({ query, ...(next !== undefined ? { cursor: next } : {}), history: before });
  const browseUrl = (extra = "") => `/browse${query || extra ? `?${[query, extra].filter(Boolean).join("&")}` : ""}`;
  const { data, error } = useLoad(
    (signal) =>
      query
        ? request<SearchPage>(`/v1/search/items?${query}&limit=25${cursor ? `&cursor=${enc(cursor)}` : ""}`, { signal })
        : request<Page<Item>>(`/v1/items?limit=25${cursor ? `&cursor=${enc(cursor)}` : ""}`, { signal }),
    [cursor, query],
  );
  return (
    <section className="browse">
      <h1>Browse</h1>
      <SearchForm
        key={query}
        initial={filters}
        onSearch={(f) => {
          // A new search keeps the item that is open.
          const q = queryOf(f);
          const params = [q, selected ? `item=${enc(selected)}` : ""].filter(Boolean).join("&");
          const to = `/browse${params ? `?${params}` : ""}`;
          setPaging({ query: q, history: [] });
          navigate(to, to === url.pathname + url.search);
        }}
      />
      {query && data && (
        <p role="status" data-testid="search-status">
          {data.records.length} matching item{data.records.length === 1 ? "" : "s"}
          {"scanned" in data ? ` among ${data.scanned} examined` : ""}
          {data.nextCursor ? "; more may match (Next goes on)" : ""}.
        </p>
      )}
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
                  href={browseUrl(`item=${enc(i.id)}`)}
                  aria-current={selected === i.id ? "true" : undefined}
                  onClick={(e) => {
                    e.preventDefault();
                    navigate(browseUrl(`item=${enc(i.id)}`));
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
              onClick={() => setPage(history[history.length - 1], history.slice(0, -1))}
            >
              Previous
            </button>
            <button
              type="button"
              className="secondary"
              disabled={!data?.nextCursor}
              onClick={() => setPage(data?.nextCursor, [...history, cursor])}
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
