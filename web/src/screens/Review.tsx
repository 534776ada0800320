/**
 * Review after submission: an annotator's own submitted tasks (to revise them), and an admin's view of one task
 * with every annotator's answer side by side and the adjudicated label.
 */
import { useEffect, useMemo, useState } from "react";
import type { MyTaskList, TaskAnswers } from "../../../src/api/index.js";
import { ApiError, enc, errorText, newId, request, requestWithRetry } from "../api";
import { type Slot, fromApiAnswers, isAnswered, keyed, slotsFor, toApiAnswers } from "../answers";
import { Link } from "../components/Link";
import { Markdown } from "../components/Markdown";
import { QuestionCard } from "../components/Questions";
import { useLoad } from "../hooks";
import { useLocation } from "../router";
import type { Feedback, Prompt, Task } from "../types";

const PAGE = 50;
const promptText = (p: Prompt) => (typeof p === "string" ? p : p.map((m) => `${m.role}: ${typeof m.content === "string" ? m.content : JSON.stringify(m.content)}`).join("\n"));

/** The tasks this annotator submitted in a queue, latest first, each opening the form to revise it. */
export function MyTasks({ queueId }: { queueId: string }) {
  const url = useLocation();
  const saved = url.searchParams.get("saved");
  const [offset, setOffset] = useState(0);
  const { data, error } = useLoad((signal) => request<MyTaskList>(`/v1/queues/${enc(queueId)}/mine?offset=${offset}&limit=${PAGE}`, { signal }), [queueId, offset]);
  return (
    <section aria-labelledby="mine-title">
      <h1 id="mine-title">Your submitted tasks</h1>
      {saved && (
        <p role="status" className="ok">
          Revision of task <code>{saved}</code> saved: {url.searchParams.get("records") ?? "new"} feedback record(s) now supersede the earlier answer.
        </p>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {data && data.total === 0 && <p>You have not submitted any task in this queue yet.</p>}
      {data && data.tasks.length > 0 && (
        <div className="table-scroll">
          <table aria-label="Your submitted tasks">
            <thead>
              <tr>
                <th scope="col">#</th>
                <th scope="col">prompt</th>
                <th scope="col">revisions</th>
                <th scope="col">last saved</th>
                <th scope="col">
                  <span className="sr-only">action</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {data.tasks.map((t) => (
                <tr key={t.id}>
                  <th scope="row">{t.position}</th>
                  <td>{t.prompt}</td>
                  <td>{t.revision}</td>
                  <td>{new Date(t.submittedAt).toLocaleString()}</td>
                  <td>
                    <Link href={`/queues/${enc(queueId)}/mine/${enc(t.id)}`}>
                      Revise<span className="sr-only"> task {t.position}</span>
                    </Link>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {data && data.total > PAGE && (
        <p className="actions">
          <button type="button" className="secondary" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
            Previous
          </button>
          <button type="button" className="secondary" disabled={offset + PAGE >= data.total} onClick={() => setOffset(offset + PAGE)}>
            Next
          </button>
        </p>
      )}
      <p>
        <Link href={`/queues/${enc(queueId)}/annotate`}>Back to annotating</Link>
      </p>
    </section>
  );
}

/** One feedback record's value in words; `gens` in the task's order (the record's targets follow it). */
function answerText(f: Feedback, gens: TaskAnswers["task"]["generations"]): string {
  const v = f.value as Record<string, unknown>;
  const name = (id: string | undefined) => {
    const i = gens.findIndex((g) => g.id === id);
    return i < 0 ? String(id) : `Response ${i + 1} (${gens[i]!.policy})`;
  };
  switch (f.kind) {
    case "pairwise":
      return v.choice === "tie" ? "tie" : `${name(f.targets[v.choice === "first" ? 0 : 1])} better${typeof v.strength === "number" ? ` (strength ${v.strength.toFixed(2)})` : ""}`;
    case "ranking":
      return (v.ranks as number[]).map((r, i) => `${name(f.targets[i])}: ${r}`).join(", ");
    case "rating":
      return String(v.score);
    case "binary":
      return v.ok ? "yes" : "no";
    case "critique":
      return [v.verdict, v.text].filter(Boolean).join(": ");
    case "spans":
      return (v.spans as { label: string; start: number; end: number }[]).map((s) => `${s.label} ${s.start}–${s.end}`).join(", ") || "nothing highlighted";
    case "correction":
      return `edited: ${String(v.output).slice(0, 200)}`;
    case "rubric":
      return Object.entries((v.criteria as Record<string, unknown>) ?? {})
        .map(([k, c]) => `${k}: ${typeof c === "boolean" ? (c ? "met" : "not met") : JSON.stringify(c)}`)
        .join(", ");
    default:
      return JSON.stringify(v).slice(0, 200);
  }
}

/** An admin compares the annotators' answers to one task and records the adjudicated label. */
export function Adjudicate({ queueId, taskId }: { queueId: string; taskId: string }) {
  const { data, error, reload } = useLoad((signal) => request<TaskAnswers>(`/v1/queues/${enc(queueId)}/tasks/${enc(taskId)}/answers`, { signal }), [queueId, taskId]);
  // The task as a form shows it, in the task's own order of generations (the adjudication's answers refer to it).
  const task = useMemo<Task | undefined>(
    () =>
      data && {
        id: data.task.id,
        queueId: data.task.queueId,
        item: data.task.item,
        generations: data.task.generations.map((g, i) => ({ slot: i, output: g.output })),
        questions: data.task.questions,
        lockedUntil: new Date(0).toISOString(),
      },
    [data],
  );
  const list = useMemo(() => (task ? slotsFor(task) : []), [task]);
  const [slots, setSlots] = useState<Record<string, unknown>>(() => keyed());
  const [active, setActive] = useState(0);
  const [status, setStatus] = useState("");
  const [err, setErr] = useState<string>();
  const [busy, setBusy] = useState(false);
  useEffect(() => {
    if (task && data) setSlots(keyed(data.adjudication ? fromApiAnswers(task, data.adjudication.answers) : {}));
  }, [task, data]);

  if (error)
    return (
      <p className="error" role="alert">
        {error}
      </p>
    );
  if (!data || !task) return <p role="status">Loading the task's answers…</p>;
  const gens = data.task.generations;
  const answered = data.annotators.filter((a) => a.feedback.length > 0);

  const save = async (e: React.FormEvent) => {
    e.preventDefault();
    const missing = list.filter((s: Slot) => s.question.required !== false && !isAnswered(s, slots[s.key]));
    if (missing.length) {
      setErr(`Answer ${missing.map((s) => s.title).join("; ")} first.`);
      return;
    }
    setErr(undefined);
    setBusy(true);
    try {
      await requestWithRetry(`/v1/queues/${enc(queueId)}/tasks/${enc(taskId)}/adjudicate`, { body: { submissionId: newId(), answers: toApiAnswers(task, slots), revision: data.adjudication?.revision ?? 0 } });
      setStatus("Adjudicated label saved: exports and judge agreement now use it for this task.");
      reload();
    } catch (x) {
      setErr(x instanceof ApiError && x.status === 409 ? "Someone adjudicated this task meanwhile: reload to see their label." : errorText(x));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section className="adjudicate" aria-labelledby="adj-title">
      <h1 id="adj-title">
        Task {data.task.position} of <Link href={`/queues/${enc(queueId)}`}>{queueId}</Link>: answers and adjudication
      </h1>
      <div className="prompt-box">
        <h2>Prompt</h2>
        <Markdown text={promptText(data.task.item.prompt)} />
      </div>
      <div className={gens.length > 1 ? "outputs two" : "outputs"}>
        {gens.map((g, i) => (
          <article key={g.id} className="output" aria-labelledby={`adj-out-${i}`}>
            <h2 id={`adj-out-${i}`}>
              Response {i + 1} <span className="muted">({g.policy})</span>
            </h2>
            <Markdown text={g.output} />
          </article>
        ))}
      </div>
      <h2>Each annotator's answer</h2>
      {answered.length === 0 ? (
        <p className="muted">No answers submitted yet.</p>
      ) : (
        <div className="table-scroll">
          <table data-testid="annotator-answers" aria-label="Each annotator's answer">
            <thead>
              <tr>
                <th scope="col">annotator</th>
                {data.task.questions.map((q) => (
                  <th scope="col" key={q.id}>
                    {q.prompt} <span className="muted">({q.id})</span>
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {answered.map((a) => (
                <tr key={a.annotator}>
                  <th scope="row">
                    {a.annotator}
                    {a.revision > 0 && <span className="muted"> (revised {a.revision}×)</span>}
                  </th>
                  {data.task.questions.map((q) => {
                    const mine = a.feedback.filter((f) => (f.metadata as Record<string, unknown> | undefined)?.questionId === q.id);
                    return (
                      <td key={q.id}>
                        {mine.length === 0
                          ? "–"
                          : mine.map((f) => (
                              <div key={f.id}>
                                {mine.length > 1 || (gens.length > 1 && f.targets.length === 1) ? <span className="muted">Response {gens.findIndex((g) => g.id === f.targets[0]) + 1}: </span> : null}
                                {answerText(f, gens)}
                              </div>
                            ))}
                      </td>
                    );
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <h2>Adjudicated label</h2>
      {data.adjudication && (
        <p data-testid="adjudication">
          Recorded by {data.adjudication.adjudicator} ({data.adjudication.revision === 1 ? "first label" : `revision ${data.adjudication.revision}`}):{" "}
          {data.adjudication.feedback.map((f) => answerText(f, gens)).join("; ")}
        </p>
      )}
      <form className="questions" onSubmit={save} aria-label="Adjudicated label">
        {list.map((s, i) => (
          <QuestionCard
            key={s.key}
            index={i}
            slot={s}
            task={task}
            value={slots[s.key]}
            active={i === active}
            invalid={false}
            onFocus={() => setActive(i)}
            onChange={(v) =>
              setSlots((cur) => {
                const next = keyed(cur);
                if (v === undefined) delete next[s.key];
                else next[s.key] = v;
                return next;
              })
            }
            spanRef={() => undefined}
          />
        ))}
        {err && (
          <p className="error" role="alert">
            {err}
          </p>
        )}
        <div className="actions">
          <button type="submit" disabled={busy}>
            {data.adjudication ? "Replace the adjudicated label" : "Save the adjudicated label"}
          </button>
          <span role="status" className="muted">
            {status}
          </span>
        </div>
      </form>
    </section>
  );
}
