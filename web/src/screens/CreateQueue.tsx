/** An admin builds a queue: which outputs (filters, pairs, a random sample), which questions, how many annotators. */
import { useMemo, useState } from "react";
import { type FieldIssue, ApiError, errorText, request } from "../api";
import { useLoad } from "../hooks";
import { navigate } from "../router";
import type { Feedback, Generation, Item, Page, Question, QuestionKind, Queue } from "../types";

const KIND_INFO: Record<QuestionKind, { label: string; prompt: string; pairsOnly?: boolean }> = {
  pairwise: { label: "Pairwise preference", prompt: "Which response is better?", pairsOnly: true },
  ranking: { label: "Ranking", prompt: "Rank the responses from best to worst.", pairsOnly: true },
  rating: { label: "Rating on a scale", prompt: "How good is this response?" },
  binary: { label: "Yes / no", prompt: "Is this response acceptable?" },
  critique: { label: "Critique", prompt: "Critique this response." },
  span: { label: "Highlight spans", prompt: "Highlight problems in the response." },
  rubric: { label: "Rubric / checklist", prompt: "Check each criterion." },
  correction: { label: "Correction", prompt: "Edit the response so that it is correct." },
};

/** Every kind, in the order the menu offers them (KIND_INFO names each kind of the API's, and only those). */
const QUESTION_KINDS = Object.keys(KIND_INFO) as QuestionKind[];

/** Each field of any kind of question, optional: a question as the form edits it (the server validates what is sent). */
type AnyField<U> = { [K in U extends unknown ? keyof U : never]?: U extends unknown ? (K extends keyof U ? U[K] : never) : never };
type QuestionDraft = AnyField<Question> & { id: string; kind: QuestionKind; prompt: string };

interface Draft {
  key: number;
  q: QuestionDraft;
}

function defaults(kind: QuestionKind, n: number): QuestionDraft {
  const q: QuestionDraft = { id: `${kind}-${n}`, kind, prompt: KIND_INFO[kind].prompt, required: true };
  if (kind === "pairwise") Object.assign(q, { allowTie: true, strength: false });
  if (kind === "rating") Object.assign(q, { min: 1, max: 5 });
  if (kind === "span") q.labels = ["error", "unsupported", "good"];
  if (kind === "rubric")
    q.criteria = [
      { id: "correct", description: "The answer is factually correct" },
      { id: "complete", description: "It answers every part of the question" },
    ];
  return q;
}

const splitList = (s: string) =>
  s
    .split(/[\n,]+/)
    .map((x) => x.trim())
    .filter(Boolean);

type Mode = "generations" | "pairs" | "lists";

/** The question a new queue starts with for each shape: a preference for pairs, a ranking for lists, a rating for single outputs. */
const DEFAULT_KIND: Record<Mode, QuestionKind> = { pairs: "pairwise", lists: "ranking", generations: "rating" };

/** Where a question's suggestion comes from, as the form's menu value: "" none, "judge" any judge, "judge:gpt" that one. */
type SuggestFrom = string;

function QuestionEditor({
  q,
  mode,
  onChange,
  onRemove,
  index,
  issues,
  sources,
  suggest,
  onSuggest,
}: {
  q: QuestionDraft;
  mode: Mode;
  onChange: (q: QuestionDraft) => void;
  onRemove: () => void;
  index: number;
  issues: FieldIssue[];
  sources: string[];
  suggest: SuggestFrom;
  onSuggest: (s: SuggestFrom) => void;
}) {
  const base = `q${index}`;
  const set = (patch: Partial<QuestionDraft>) => onChange({ ...q, ...patch });
  const info = KIND_INFO[q.kind];
  const mine = issues.filter((i) => i.path === `questions.${index}` || i.path.startsWith(`questions.${index}.`));
  return (
    <fieldset className="question-editor">
      <legend>
        Question {index + 1}: {info.label}
      </legend>
      {info.pairsOnly && mode === "generations" && (
        <p className="warning" role="note">
          {info.label} compares outputs: choose pairs{q.kind === "ranking" ? " or lists" : ""} above.
        </p>
      )}
      {q.kind === "pairwise" && mode === "lists" && (
        <p className="warning" role="note">
          A pairwise question needs pairs; use a ranking for lists.
        </p>
      )}
      {!info.pairsOnly && mode !== "generations" && <p className="muted">Asked of each shown response.</p>}
      <div className="grid2">
        <label htmlFor={`${base}-prompt`}>Question</label>
        <input id={`${base}-prompt`} value={q.prompt} onChange={(e) => set({ prompt: e.target.value })} />
        <label htmlFor={`${base}-id`}>Id</label>
        <input id={`${base}-id`} value={q.id} onChange={(e) => set({ id: e.target.value })} />
      </div>
      <label className="check">
        <input type="checkbox" checked={q.required !== false} onChange={(e) => set({ required: e.target.checked })} /> Required
      </label>
      {q.kind === "pairwise" && (
        <>
          <label className="check">
            <input type="checkbox" checked={!!q.allowTie} onChange={(e) => set({ allowTie: e.target.checked })} /> Allow a tie
          </label>
          <label className="check">
            <input type="checkbox" checked={!!q.strength} onChange={(e) => set({ strength: e.target.checked })} /> Ask how much better
          </label>
        </>
      )}
      {q.kind === "rating" && (
        <div className="grid2">
          <label htmlFor={`${base}-min`}>Lowest score</label>
          <input id={`${base}-min`} type="number" value={q.min ?? 1} onChange={(e) => set({ min: Number(e.target.value) })} />
          <label htmlFor={`${base}-max`}>Highest score</label>
          <input id={`${base}-max`} type="number" value={q.max ?? 5} onChange={(e) => set({ max: Number(e.target.value) })} />
          <label htmlFor={`${base}-step`}>Step</label>
          <input id={`${base}-step`} type="number" min={0} step="any" value={q.step ?? 1} onChange={(e) => set({ step: Number(e.target.value) === 1 ? undefined : Number(e.target.value) })} />
          <label htmlFor={`${base}-labels`}>Labels (optional)</label>
          <input
            id={`${base}-labels`}
            placeholder="1=poor, 5=excellent"
            value={Object.entries((q.labels as Record<string, string> | undefined) ?? {})
              .map(([k, v]) => `${k}=${v}`)
              .join(", ")}
            onChange={(e) => {
              const labels: Record<string, string> = {};
              for (const part of e.target.value.split(",")) {
                const [k, ...v] = part.split("=");
                if (k?.trim() && v.length) labels[k.trim()] = v.join("=").trim();
              }
              set({ labels: Object.keys(labels).length ? labels : undefined });
            }}
          />
        </div>
      )}
      {q.kind === "span" && (
        <div className="grid2">
          <label htmlFor={`${base}-labels`}>Labels (comma-separated)</label>
          <input id={`${base}-labels`} defaultValue={((q.labels as string[]) ?? []).join(", ")} onChange={(e) => set({ labels: splitList(e.target.value) })} />
        </div>
      )}
      {q.kind === "rubric" && (
        <table className="criteria">
          <caption>Criteria</caption>
          <thead>
            <tr>
              <th scope="col">Id</th>
              <th scope="col">Description</th>
              <th scope="col">Weight</th>
              <th scope="col">Max score (empty: met / not met)</th>
              <th scope="col">
                <span className="sr-only">Remove</span>
              </th>
            </tr>
          </thead>
          <tbody>
            {(q.criteria ?? []).map((c, i) => {
              const upd = (patch: Partial<typeof c>) => set({ criteria: (q.criteria ?? []).map((x, j) => (j === i ? { ...x, ...patch } : x)) });
              return (
                <tr key={i}>
                  <td>
                    <input aria-label={`Criterion ${i + 1} id`} value={c.id} onChange={(e) => upd({ id: e.target.value })} />
                  </td>
                  <td>
                    <input aria-label={`Criterion ${i + 1} description`} value={c.description} onChange={(e) => upd({ description: e.target.value })} />
                  </td>
                  <td>
                    <input
                      aria-label={`Criterion ${i + 1} weight`}
                      type="number"
                      min={0}
                      step="any"
                      value={c.weight ?? ""}
                      onChange={(e) => upd({ weight: e.target.value === "" ? undefined : Number(e.target.value) })}
                    />
                  </td>
                  <td>
                    <input
                      aria-label={`Criterion ${i + 1} maximum score`}
                      type="number"
                      min={0}
                      step="any"
                      value={c.maxScore ?? ""}
                      onChange={(e) => upd({ maxScore: e.target.value === "" || Number(e.target.value) <= 0 ? undefined : Number(e.target.value) })}
                    />
                  </td>
                  <td>
                    <button type="button" className="link-button" onClick={() => set({ criteria: (q.criteria ?? []).filter((_, j) => j !== i) })}>
                      Remove<span className="sr-only"> criterion {i + 1}</span>
                    </button>
                  </td>
                </tr>
              );
            })}
          </tbody>
          <tfoot>
            <tr>
              <td colSpan={5}>
                <button type="button" onClick={() => set({ criteria: [...(q.criteria ?? []), { id: `c${(q.criteria?.length ?? 0) + 1}`, description: "" }] })}>
                  Add criterion
                </button>
              </td>
            </tr>
          </tfoot>
        </table>
      )}
      {q.kind === "binary" && (
        <div className="grid2">
          <label htmlFor={`${base}-yes`}>“Yes” button</label>
          <input
            id={`${base}-yes`}
            placeholder="Yes"
            value={(q.labels as Record<string, string> | undefined)?.yes ?? ""}
            onChange={(e) => {
              const no = (q.labels as Record<string, string> | undefined)?.no;
              set({ labels: e.target.value || no ? { yes: e.target.value || "Yes", no: no || "No" } : undefined });
            }}
          />
          <label htmlFor={`${base}-no`}>“No” button</label>
          <input
            id={`${base}-no`}
            placeholder="No"
            value={(q.labels as Record<string, string> | undefined)?.no ?? ""}
            onChange={(e) => {
              const yes = (q.labels as Record<string, string> | undefined)?.yes;
              set({ labels: e.target.value || yes ? { yes: yes || "Yes", no: e.target.value || "No" } : undefined });
            }}
          />
        </div>
      )}
      {q.kind === "critique" && (
        <>
          <p className="muted">Annotators write a critique, strengths, weaknesses and suggestions.</p>
          <label className="check">
            <input type="checkbox" checked={q.verdict !== false} onChange={(e) => set({ verdict: e.target.checked ? undefined : false })} /> Ask for a pass/fail verdict
          </label>
        </>
      )}
      {q.kind === "correction" && <p className="muted">Annotators edit the output; the change is shown as a diff.</p>}
      {mine.map((i) => (
        <p key={i.path + i.message} className="error" role="alert">
          {i.path}: {i.message}
        </p>
      ))}
      <div className="grid2">
        <label htmlFor={`${base}-suggest`}>Suggested answer from</label>
        <select id={`${base}-suggest`} value={suggest} onChange={(e) => onSuggest(e.target.value)}>
          <option value="">no suggestion</option>
          {["judge", "critic", "verifier", "simulated"].map((t) => (
            <option key={t} value={t}>
              any {t}
            </option>
          ))}
          {sources.map((src) => (
            <option key={src} value={src}>
              {src.replace(":", " ")}
            </option>
          ))}
        </select>
      </div>
      <button type="button" className="link-button danger" onClick={onRemove}>
        Remove question {index + 1}
      </button>
    </fieldset>
  );
}

/**
 * A queue of the stored pairs where judges disagree most (the router of `rlxf judge route`): most contested first,
 * one pairwise question, the judges' verdict shown as a suggestion when chosen.
 */
function RouteQueue() {
  const [name, setName] = useState("Contested pairs");
  const [budget, setBudget] = useState(20);
  const [minJudges, setMinJudges] = useState(2);
  const [perItem, setPerItem] = useState(1);
  const [suggest, setSuggest] = useState(false);
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setError(undefined);
    setBusy(true);
    try {
      const { queue } = await request<{ queue: Queue }>("/v1/queues/from-route", {
        body: {
          name: name.trim(),
          budget,
          minJudges,
          annotatorsPerItem: perItem,
          ...(suggest ? { suggestions: [{ question: "preference", source: { type: "judge" } }] } : {}),
        },
      });
      navigate(`/queues/${encodeURIComponent(queue.id)}`);
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={submit} noValidate aria-labelledby="route-title">
      <fieldset>
        <legend id="route-title">Or: the pairs where judges disagree most</legend>
        <p className="muted">Pairs labelled by several judges, most contested first, without a human label yet: where a person's answer is worth the most.</p>
        <div className="grid2">
          <label htmlFor="route-name">Queue name</label>
          <input id="route-name" value={name} onChange={(e) => setName(e.target.value)} />
          <label htmlFor="route-budget">How many pairs</label>
          <input id="route-budget" type="number" min={1} value={budget} onChange={(e) => setBudget(Number(e.target.value))} />
          <label htmlFor="route-judges">At least this many judges per pair</label>
          <input id="route-judges" type="number" min={1} value={minJudges} onChange={(e) => setMinJudges(Number(e.target.value))} />
          <label htmlFor="route-per-item">Annotators per pair</label>
          <input id="route-per-item" type="number" min={1} max={20} value={perItem} onChange={(e) => setPerItem(Number(e.target.value))} />
        </div>
        <label className="check">
          <input type="checkbox" checked={suggest} onChange={(e) => setSuggest(e.target.checked)} /> Show a judge's verdict as a suggestion
        </label>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy}>
          {busy ? "Creating…" : "Create the queue from judge disagreements"}
        </button>
      </fieldset>
    </form>
  );
}

export function CreateQueue() {
  const catalogue = useLoad(async (signal) => {
    const [items, gens, fb] = await Promise.all([
      request<Page<Item>>("/v1/items?limit=1000", { signal }),
      request<Page<Generation>>("/v1/generations?limit=1000", { signal }),
      request<Page<Feedback>>("/v1/feedback?limit=1000", { signal }),
    ]);
    // Sources that can suggest answers: the models' feedback (judges, critics, verifiers, simulated annotators).
    const sources = [...new Set(fb.records.filter((f) => f.source.type !== "human" && f.source.type !== "user").map((f) => `${f.source.type}:${f.source.id}`))].sort();
    return { items: items.records, generations: gens.records, sources };
  }, []);
  const datasets = useMemo(() => [...new Set((catalogue.data?.items ?? []).map((i) => i.dataset).filter((d): d is string => !!d))].sort(), [catalogue.data]);
  const policies = useMemo(() => [...new Set((catalogue.data?.generations ?? []).map((g) => g.policy))].sort(), [catalogue.data]);

  const [name, setName] = useState("");
  const [instructions, setInstructions] = useState("");
  const [mode, setMode] = useState<Mode>("pairs");
  const [annotators, setAnnotators] = useState("");
  const [dataset, setDataset] = useState("");
  const [chosen, setChosen] = useState<string[]>([]);
  const [itemIds, setItemIds] = useState("");
  const [sample, setSample] = useState(false);
  const [sampleN, setSampleN] = useState(20);
  const [seed, setSeed] = useState(1);
  const [perItem, setPerItem] = useState(1);
  const [lockMinutes, setLockMinutes] = useState(10);
  const [questions, setQuestions] = useState<Draft[]>([{ key: 0, q: defaults(DEFAULT_KIND.pairs, 1) }]);
  // While the questions are still the untouched default of the shape, choosing another shape switches them to its default.
  const [questionsEdited, setQuestionsEdited] = useState(false);
  const chooseMode = (m: Mode) => {
    setMode(m);
    if (questionsEdited) return;
    setQuestions([{ key: nextKey, q: defaults(DEFAULT_KIND[m], 1) }]);
    setNextKey(nextKey + 1);
  };
  const editQuestions = (next: Draft[]) => {
    setQuestionsEdited(true);
    setQuestions(next);
  };
  const [nextKey, setNextKey] = useState(1);
  const [addKind, setAddKind] = useState<QuestionKind>("rating");
  /** By the draft's key: where its suggestion comes from. */
  const [suggestFrom, setSuggestFrom] = useState<Record<number, SuggestFrom>>({});
  const [error, setError] = useState<string>();
  const [issues, setIssues] = useState<FieldIssue[]>([]);
  const [busy, setBusy] = useState(false);

  const matching = useMemo(() => {
    const d = catalogue.data;
    if (!d) return undefined;
    const ids = new Set(splitList(itemIds));
    const items = new Set(d.items.filter((i) => (!dataset || i.dataset === dataset) && (ids.size === 0 || ids.has(i.id))).map((i) => i.id));
    const gens = d.generations.filter((g) => items.has(g.itemId) && (chosen.length === 0 || chosen.includes(g.policy)));
    if (mode === "generations") return gens.length;
    if (mode === "lists") return new Set(gens.map((g) => g.itemId)).size;
    const per = new Map<string, number>();
    for (const g of gens) per.set(g.itemId, (per.get(g.itemId) ?? 0) + 1);
    let pairs = 0;
    for (const n of per.values()) pairs += (n * (n - 1)) / 2;
    return pairs;
  }, [catalogue.data, dataset, chosen, itemIds, mode]);

  const submit = async (e: React.FormEvent) => {
    e.preventDefault();
    setError(undefined);
    setIssues([]);
    if (!name.trim()) {
      setError("Give the queue a name.");
      document.getElementById("queue-name")?.focus();
      return;
    }
    const misfit = questions.findIndex((d) => (mode === "generations" && KIND_INFO[d.q.kind].pairsOnly) || (mode === "lists" && d.q.kind === "pairwise"));
    if (misfit >= 0) {
      const kind = KIND_INFO[questions[misfit]!.q.kind].label;
      setError(`Question ${misfit + 1} (${kind}) compares outputs, which ${mode === "generations" ? "single outputs" : "lists"} cannot answer: change or remove it, or choose ${mode === "generations" ? "pairs" : "pairs, or use a ranking"}.`);
      document.getElementById(`q${misfit}-prompt`)?.focus();
      return;
    }
    const body = {
      name: name.trim(),
      ...(instructions.trim() ? { instructions: instructions.trim() } : {}),
      selection: {
        mode,
        ...(dataset ? { dataset } : {}),
        ...(chosen.length ? { policies: chosen } : {}),
        ...(splitList(itemIds).length ? { itemIds: splitList(itemIds) } : {}),
        ...(sample ? { sample: { n: sampleN, seed } } : {}),
      },
      questions: questions.map((d) => Object.fromEntries(Object.entries(d.q).filter(([, v]) => v !== undefined))),
      ...(questions.some((d) => suggestFrom[d.key])
        ? {
            suggestions: questions
              .filter((d) => suggestFrom[d.key])
              .map((d) => {
                const [type, ...id] = suggestFrom[d.key]!.split(":");
                return { question: d.q.id, source: { type, ...(id.length ? { id: id.join(":") } : {}) } };
              }),
          }
        : {}),
      annotatorsPerItem: perItem,
      ...(splitList(annotators).length ? { annotators: splitList(annotators) } : {}),
      lockSeconds: Math.round(lockMinutes * 60),
    };
    setBusy(true);
    try {
      const { queue } = await request<{ queue: Queue }>("/v1/queues", { body });
      navigate(`/queues/${encodeURIComponent(queue.id)}`);
    } catch (err) {
      setError(errorText(err));
      if (err instanceof ApiError) setIssues(err.issues);
    } finally {
      setBusy(false);
    }
  };

  return (
    <section>
      <h1>New annotation queue</h1>
      <form onSubmit={submit} noValidate>
        <fieldset>
          <legend>Queue</legend>
          <div className="grid2">
            <label htmlFor="queue-name">Name</label>
            <input id="queue-name" value={name} onChange={(e) => setName(e.target.value)} required aria-required="true" />
            <label htmlFor="queue-instructions">Instructions (Markdown)</label>
            <textarea id="queue-instructions" rows={3} value={instructions} onChange={(e) => setInstructions(e.target.value)} />
          </div>
        </fieldset>

        <fieldset>
          <legend>What to annotate</legend>
          {catalogue.error && (
            <p className="error" role="alert">
              {catalogue.error}
            </p>
          )}
          <div role="radiogroup" aria-label="Task shape" className="radios">
            <label className="check">
              <input type="radio" name="mode" value="pairs" checked={mode === "pairs"} onChange={() => chooseMode("pairs")} /> Pairs of outputs for the same item (side by side)
            </label>
            <label className="check">
              <input type="radio" name="mode" value="lists" checked={mode === "lists"} onChange={() => chooseMode("lists")} /> All outputs of an item (to rank)
            </label>
            <label className="check">
              <input type="radio" name="mode" value="generations" checked={mode === "generations"} onChange={() => chooseMode("generations")} /> Single outputs
            </label>
          </div>
          <div className="grid2">
            <label htmlFor="sel-dataset">Dataset</label>
            <select id="sel-dataset" value={dataset} onChange={(e) => setDataset(e.target.value)}>
              <option value="">all datasets</option>
              {datasets.map((d) => (
                <option key={d} value={d}>
                  {d}
                </option>
              ))}
            </select>
            <label htmlFor="sel-items">Only these items (ids, optional)</label>
            <textarea id="sel-items" rows={2} value={itemIds} onChange={(e) => setItemIds(e.target.value)} placeholder="capital, haiku" />
          </div>
          <fieldset className="inline">
            <legend>Policies {mode === "pairs" ? "(pairs between them)" : ""}</legend>
            {policies.length === 0 && <p className="muted">No generations stored yet.</p>}
            {policies.map((p) => (
              <label key={p} className="check">
                <input type="checkbox" checked={chosen.includes(p)} onChange={(e) => setChosen(e.target.checked ? [...chosen, p] : chosen.filter((x) => x !== p))} /> {p}
              </label>
            ))}
            <p className="muted">None ticked: every policy.</p>
          </fieldset>
          <label className="check">
            <input type="checkbox" checked={sample} onChange={(e) => setSample(e.target.checked)} /> Random sample
          </label>
          {sample && (
            <div className="grid2">
              <label htmlFor="sample-n">Tasks to sample</label>
              <input id="sample-n" type="number" min={1} value={sampleN} onChange={(e) => setSampleN(Number(e.target.value))} />
              <label htmlFor="sample-seed">Seed</label>
              <input id="sample-seed" type="number" min={0} value={seed} onChange={(e) => setSeed(Number(e.target.value))} />
            </div>
          )}
          {matching !== undefined && (
            <p className="muted" role="status" data-testid="match-count">
              About {sample ? Math.min(sampleN, matching) : matching} {mode === "pairs" ? "pairs" : mode === "lists" ? "items" : "outputs"} match (among the first 1,000 stored records).
            </p>
          )}
        </fieldset>

        <fieldset>
          <legend>Questions</legend>
          {questions.map((d, i) => (
            <QuestionEditor
              key={d.key}
              q={d.q}
              index={i}
              mode={mode}
              issues={issues}
              sources={catalogue.data?.sources ?? []}
              suggest={suggestFrom[d.key] ?? ""}
              onSuggest={(v) => setSuggestFrom({ ...suggestFrom, [d.key]: v })}
              onChange={(q) => editQuestions(questions.map((x) => (x.key === d.key ? { ...x, q } : x)))}
              onRemove={() => editQuestions(questions.filter((x) => x.key !== d.key))}
            />
          ))}
          <div className="add-question">
            <label htmlFor="add-kind">Add a question</label>
            <select id="add-kind" value={addKind} onChange={(e) => setAddKind(e.target.value as QuestionKind)}>
              {QUESTION_KINDS.map((k) => (
                <option key={k} value={k}>
                  {KIND_INFO[k].label}
                </option>
              ))}
            </select>
            <button
              type="button"
              onClick={() => {
                editQuestions([...questions, { key: nextKey, q: defaults(addKind, questions.filter((x) => x.q.kind === addKind).length + 1) }]);
                setNextKey(nextKey + 1);
              }}
            >
              Add
            </button>
          </div>
        </fieldset>

        <fieldset>
          <legend>Annotators</legend>
          <div className="grid2">
            <label htmlFor="per-item">Annotators per task</label>
            <input id="per-item" type="number" min={1} max={20} value={perItem} onChange={(e) => setPerItem(Number(e.target.value))} />
            <label htmlFor="annotators">Only these annotators (names, optional)</label>
            <input id="annotators" value={annotators} onChange={(e) => setAnnotators(e.target.value)} placeholder="alice, bob" />
            <label htmlFor="lock-min">Lock a task for (minutes)</label>
            <input id="lock-min" type="number" min={1} value={lockMinutes} onChange={(e) => setLockMinutes(Number(e.target.value))} />
          </div>
        </fieldset>
        {error && (
          <p className="error" role="alert">
            {error}
          </p>
        )}
        <button type="submit" disabled={busy || questions.length === 0}>
          {busy ? "Creating…" : "Create queue"}
        </button>
      </form>
      <RouteQueue />
    </section>
  );
}
