/** One question about a task, as a form group that also answers to its keyboard shortcuts. */
import { type Slot } from "../answers";
import type { Task } from "../types";
import { Diff } from "./Diff";
import { type SpanHandle, SpanHighlighter, type SpanValue } from "./Spans";

type V = Record<string, unknown>;

const STRENGTHS: [number, string][] = [
  [1 / 3, "slightly"],
  [2 / 3, "clearly"],
  [1, "much"],
];

export function QuestionCard(props: {
  index: number;
  slot: Slot;
  task: Task;
  value: unknown;
  active: boolean;
  invalid: boolean;
  onFocus: () => void;
  onChange: (v: unknown) => void;
  spanRef: (h: SpanHandle | null) => void;
  /** The legend in place of the question's prompt (a per-response card under a shared prompt). */
  legend?: string;
  /** Another source's answer shown with the question: who, what, whether the current answer is it. */
  suggestion?: { source: string; text: string; kept: boolean; accept: () => void };
}) {
  const { slot, value, onChange, active, index } = props;
  const q = slot.question;
  const v = (value ?? {}) as V;
  const id = slot.domId;
  const pair = props.task.generations.length > 1;
  const name = (i: number) => (pair ? `Response ${i + 1}` : "the response");

  let body: React.ReactNode;
  let keys: React.ReactNode = null;
  switch (q.kind) {
    case "pairwise": {
      const opts: [string, string, string][] = [
        ["first", `${name(0)} is better`, "1"],
        ["second", `${name(1)} is better`, "2"],
      ];
      if (q.allowTie) opts.push(["tie", "About the same", "0"]);
      keys = (
        <>
          <kbd>1</kbd> <kbd>2</kbd> {q.allowTie && <kbd>0</kbd>} {q.strength && <>· <kbd>Shift</kbd>+<kbd>1</kbd>–<kbd>3</kbd> how much</>}
        </>
      );
      body = (
        <>
          <div className="choices" role="radiogroup" aria-label={q.prompt}>
            {opts.map(([choice, label, key]) => (
              <label key={choice} className={`choice ${v.choice === choice ? "selected" : ""}`}>
                <input type="radio" name={`${id}-choice`} value={choice} checked={v.choice === choice} onChange={() => onChange(choice === "tie" ? { choice } : { ...v, choice })} />
                <kbd aria-hidden="true">{key}</kbd> {label}
              </label>
            ))}
          </div>
          {q.strength && v.choice && v.choice !== "tie" && (
            <div className="choices" role="radiogroup" aria-label="How much better">
              {STRENGTHS.map(([s, label], i) => (
                <label key={label} className={`choice small ${v.strength === s ? "selected" : ""}`}>
                  <input type="radio" name={`${id}-strength`} checked={v.strength === s} onChange={() => onChange({ ...v, strength: s })} />
                  <kbd aria-hidden="true">⇧{i + 1}</kbd> {label} better
                </label>
              ))}
            </div>
          )}
        </>
      );
      break;
    }
    case "ranking": {
      const order = (v.order as number[] | undefined) ?? [];
      keys = (
        <>
          press response numbers best first · <kbd>⌫</kbd> clear
        </>
      );
      body = (
        <div className="ranking">
          {slot.generations.map((g, i) => (
            <div key={g.slot} className="grid2">
              <label htmlFor={`${id}-rank-${i}`}>Rank of response {i + 1}</label>
              <select
                id={`${id}-rank-${i}`}
                value={order.includes(i) ? order.indexOf(i) + 1 : ""}
                onChange={(e) => {
                  const r = Number(e.target.value);
                  const rest = order.filter((x) => x !== i);
                  if (r) rest.splice(r - 1, 0, i);
                  onChange(rest.length ? { order: rest } : undefined);
                }}
              >
                <option value="">–</option>
                {slot.generations.map((_, r) => (
                  <option key={r} value={r + 1}>
                    {r + 1}
                    {r === 0 ? " (best)" : ""}
                  </option>
                ))}
              </select>
            </div>
          ))}
        </div>
      );
      break;
    }
    case "rating": {
      const min = q.min ?? 1;
      const max = q.max ?? 5;
      const labels = (q.labels && !Array.isArray(q.labels) ? q.labels : {}) as Record<string, string>;
      const step = q.step ?? 1;
      const scores = Array.from({ length: Math.min(101, Math.max(0, Math.floor((max - min) / step + 1e-9) + 1)) }, (_, i) => Number((min + i * step).toPrecision(12)));
      keys = (
        <>
          {max <= 9 && min >= 0 && (
            <>
              <kbd>{min}</kbd>–<kbd>{max}</kbd> ·{" "}
            </>
          )}
          <kbd>←</kbd> <kbd>→</kbd>
        </>
      );
      body = (
        <div className="choices scale" role="radiogroup" aria-label={`${slot.title}, from ${min} to ${max}`}>
          {scores.map((s) => (
            <label key={s} className={`choice small ${v.score === s ? "selected" : ""}`}>
              <input type="radio" name={`${id}-score`} checked={v.score === s} onChange={() => onChange({ score: s })} />
              {s}
              {labels[String(s)] ? <span className="muted"> {labels[String(s)]}</span> : null}
            </label>
          ))}
        </div>
      );
      break;
    }
    case "binary": {
      const yn = (q.labels && !Array.isArray(q.labels) ? q.labels : {}) as Record<string, string>;
      keys = (
        <>
          <kbd>y</kbd> <kbd>n</kbd>
        </>
      );
      body = (
        <div className="choices" role="radiogroup" aria-label={slot.title}>
          {(
            [
              [true, yn.yes ?? "Yes", "y"],
              [false, yn.no ?? "No", "n"],
            ] as const
          ).map(([ok, label, key]) => (
            <label key={label} className={`choice small ${v.ok === ok ? "selected" : ""}`}>
              <input type="radio" name={`${id}-ok`} checked={v.ok === ok} onChange={() => onChange({ ok })} />
              <kbd aria-hidden="true">{key}</kbd> {label}
            </label>
          ))}
        </div>
      );
      break;
    }
    case "critique": {
      const field = (k: string, label: string, rows: number, hint?: string) => (
        <div className="field">
          <label htmlFor={`${id}-${k}`}>
            {label}
            {hint && <span className="muted"> {hint}</span>}
          </label>
          <textarea id={`${id}-${k}`} rows={rows} value={(v[k] as string) ?? ""} onChange={(e) => onChange({ ...v, [k]: e.target.value })} />
        </div>
      );
      const askVerdict = q.verdict !== false;
      keys = (
        <>
          <kbd>e</kbd> write{askVerdict && <> · <kbd>p</kbd> pass · <kbd>f</kbd> fail</>}
        </>
      );
      body = (
        <>
          {field("text", "Critique", 3)}
          <div className="grid3">
            {field("strengths", "Strengths", 3, "(one per line)")}
            {field("weaknesses", "Weaknesses", 3, "(one per line)")}
            {field("suggestions", "Suggestions", 3, "(one per line)")}
          </div>
          {askVerdict && <div className="choices" role="radiogroup" aria-label="Verdict">
            {(["pass", "fail"] as const).map((verdict) => (
              <label key={verdict} className={`choice small ${v.verdict === verdict ? "selected" : ""}`}>
                <input type="radio" name={`${id}-verdict`} checked={v.verdict === verdict} onChange={() => onChange({ ...v, verdict })} />
                <kbd aria-hidden="true">{verdict[0]}</kbd> {verdict}
              </label>
            ))}
          </div>}
        </>
      );
      break;
    }
    case "span": {
      const labels = (Array.isArray(q.labels) ? q.labels : []) as string[];
      const spans = (v.spans as SpanValue[] | undefined) ?? [];
      keys = (
        <>
          select text, then <kbd>1</kbd>–<kbd>{Math.min(9, labels.length)}</kbd> label · <kbd>e</kbd> type text
        </>
      );
      body = (
        <>
          <SpanHighlighter
            ref={props.spanRef}
            id={id}
            text={slot.generations[0]?.output ?? ""}
            labels={labels}
            spans={spans}
            shortcuts={active}
            onChange={(s) => onChange({ spans: s, none: false })}
          />
          <label className="check">
            <input type="checkbox" checked={!!v.none && spans.length === 0} disabled={spans.length > 0} onChange={(e) => onChange(e.target.checked ? { spans: [], none: true } : undefined)} /> Nothing to
            highlight
          </label>
        </>
      );
      break;
    }
    case "rubric": {
      const checks = (v.checks as Record<string, boolean | number> | undefined) ?? {};
      keys = (
        <>
          <kbd>1</kbd>–<kbd>{Math.min(9, q.criteria?.length ?? 0)}</kbd> a criterion's number marks it met; the same number again marks it not met
        </>
      );
      body = (
        <table className="rubric">
          <caption className="sr-only">{slot.title}</caption>
          <thead>
            <tr>
              <th scope="col">Criterion</th>
              <th scope="col">Met</th>
              <th scope="col">Not met</th>
            </tr>
          </thead>
          <tbody>
            {(q.criteria ?? []).map((c, i) => (
              <tr key={c.id}>
                <th scope="row">
                  {i < 9 && <kbd aria-hidden="true">{i + 1}</kbd>} {c.description || c.id}
                </th>
                {c.maxScore !== undefined ? (
                  <td colSpan={2}>
                    <input
                      type="number"
                      min={0}
                      max={c.maxScore}
                      step="any"
                      aria-label={`${c.description || c.id}: score from 0 to ${c.maxScore}`}
                      value={typeof checks[c.id] === "number" ? String(checks[c.id]) : ""}
                      onChange={(e) => {
                        const next = { ...checks };
                        if (e.target.value === "") delete next[c.id];
                        else next[c.id] = Math.max(0, Math.min(c.maxScore!, Number(e.target.value)));
                        onChange({ checks: next });
                      }}
                    />{" "}
                    <span className="muted">/ {c.maxScore}</span>
                  </td>
                ) : (
                  [true, false].map((passed) => (
                    <td key={String(passed)}>
                      <input
                        type="radio"
                        name={`${id}-${c.id}`}
                        aria-label={`${c.description || c.id}: ${passed ? "met" : "not met"}`}
                        checked={checks[c.id] === passed}
                        onChange={() => onChange({ checks: { ...checks, [c.id]: passed } })}
                      />
                    </td>
                  ))
                )}
              </tr>
            ))}
          </tbody>
        </table>
      );
      break;
    }
    case "correction": {
      const original = slot.generations[0]?.output ?? "";
      const edited = typeof v.output === "string" ? v.output : original;
      keys = (
        <>
          <kbd>e</kbd> edit · <kbd>u</kbd> no change needed
        </>
      );
      body = (
        <>
          <div className="field">
            <label htmlFor={`${id}-output`}>Corrected response</label>
            <textarea id={`${id}-output`} rows={Math.min(16, Math.max(4, edited.split("\n").length + 1))} value={edited} onChange={(e) => onChange({ ...v, output: e.target.value })} />
          </div>
          {v.output !== original && (
            <button type="button" className="secondary" onClick={() => onChange({ ...v, output: original })}>
              No change needed <kbd>u</kbd>
            </button>
          )}
          {v.output === original && <p className="muted">Marked as needing no change.</p>}
          <Diff before={original} after={edited} />
          <div className="field">
            <label htmlFor={`${id}-comment`}>Comment (optional)</label>
            <input id={`${id}-comment`} type="text" value={(v.comment as string) ?? ""} onChange={(e) => onChange({ ...v, output: edited, comment: e.target.value })} />
          </div>
        </>
      );
      break;
    }
  }

  return (
    <fieldset
      id={id}
      tabIndex={-1}
      className={`question ${active ? "active" : ""} ${props.invalid ? "invalid" : ""}`}
      onFocusCapture={props.onFocus}
      onMouseDown={props.onFocus}
      aria-invalid={props.invalid || undefined}
      data-kind={q.kind}
    >
      <legend>
        <span className="qnum">{index + 1}</span> {props.legend ?? slot.title}
        {q.required !== false && <span className="muted"> (required)</span>}
      </legend>
      {q.description && !props.legend && <p className="muted">{q.description}</p>}
      {props.suggestion && (
        <p className="suggestion" data-testid="suggestion">
          Suggested by {props.suggestion.source}: <strong>{props.suggestion.text}</strong>{" "}
          {props.suggestion.kept ? (
            <span className="muted">(kept)</span>
          ) : (
            <>
              <span className="muted">(changed)</span>{" "}
              <button type="button" className="link-button" onClick={props.suggestion.accept}>
                Accept the suggestion<span className="sr-only"> for {props.legend ?? slot.title}</span>
              </button>
            </>
          )}
        </p>
      )}
      {keys && (
        <p className="keys" aria-hidden={!active}>
          {keys}
        </p>
      )}
      {body}
    </fieldset>
  );
}
