/**
 * Annotating a queue: the next task (locked to this annotator), its outputs side by side in the
 * order recorded for this annotator, the questions, drafts saved as you go, skip and submit.
 * Keyboard first: every question answers to keys shown next to it.
 */
import { Fragment, useCallback, useEffect, useMemo, useRef, useState } from "react";
import { ApiError, type Me, enc, errorText, newId, request, requestWithRetry } from "../api";
import { Link } from "../components/Link";
import { Markdown } from "../components/Markdown";
import { QuestionCard } from "../components/Questions";
import type { SpanHandle } from "../components/Spans";
import { type Slot, fromApiAnswers, isAnswered, keyed, slotToValue, slotsFor, toApiAnswers } from "../answers";
import { navigate } from "../router";
import type { Answers, Prompt, Queue, Task } from "../types";

type Slots = Record<string, unknown>;

interface LocalDraft {
  slots: Slots;
  submissionId?: string;
  savedAt: number;
}

const draftKey = (queueId: string, taskId: string) => `rlxf.draft.${queueId}.${taskId}`;
function readLocal(queueId: string, taskId: string): LocalDraft | undefined {
  try {
    const raw = localStorage.getItem(draftKey(queueId, taskId));
    return raw ? (JSON.parse(raw) as LocalDraft) : undefined;
  } catch {
    return undefined;
  }
}
function writeLocal(queueId: string, taskId: string, d: LocalDraft | undefined): void {
  try {
    if (d) localStorage.setItem(draftKey(queueId, taskId), JSON.stringify(d));
    else localStorage.removeItem(draftKey(queueId, taskId));
  } catch {
    /* storage full or disabled: the server draft remains */
  }
}

function PromptView({ prompt }: { prompt: Prompt }) {
  if (typeof prompt === "string") return <Markdown text={prompt} />;
  return (
    <ol className="chat">
      {prompt.map((m, i) => (
        <li key={i} className={`msg msg-${m.role}`}>
          <span className="role">{m.role}</span>
          <Markdown text={typeof m.content === "string" ? m.content : JSON.stringify(m.content)} />
        </li>
      ))}
    </ol>
  );
}

function useNow(ms: number): number {
  const [now, setNow] = useState(Date.now());
  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), ms);
    return () => clearInterval(t);
  }, [ms]);
  return now;
}

const inTextField = (el: Element | null) =>
  !!el && (el.tagName === "TEXTAREA" || el.tagName === "SELECT" || (el.tagName === "INPUT" && !["checkbox", "radio", "button", "submit"].includes((el as HTMLInputElement).type)) || (el as HTMLElement).isContentEditable);

/** The suggestions of a task as answers (what submit takes), by question id. */
function suggestedAnswers(task: Task): Answers {
  const out: Answers = Object.create(null);
  for (const s of task.suggestions ?? []) {
    if (s.slot === undefined) out[s.question] = s.answer;
    else {
      const per = (Array.isArray(out[s.question]) ? out[s.question] : new Array(task.generations.length).fill(null)) as unknown[];
      per[s.slot] = s.answer;
      out[s.question] = per;
    }
  }
  return out;
}

/** What a suggested answer says, in words. */
function describe(slot: Slot, value: unknown): string {
  const v = slotToValue(slot, value);
  if (!v) return "no answer";
  switch (slot.question.kind) {
    case "pairwise":
      return v.choice === "tie" ? "about the same" : `Response ${v.choice === "first" ? 1 : 2} is better`;
    case "ranking":
      return `ranks ${(v.ranks as number[]).join(", ")}`;
    case "rating":
      return `${v.score}`;
    case "binary":
      return v.ok ? "yes" : "no";
    case "critique":
      return [v.verdict, typeof v.text === "string" ? v.text.slice(0, 120) : ""].filter(Boolean).join(": ");
    case "correction":
      return "an edited response";
    case "span":
      return `${(v.spans as unknown[]).length} highlighted span(s)`;
    default:
      return "an answer";
  }
}

const sameAnswer = (slot: Slot, a: unknown, b: unknown) => JSON.stringify(slotToValue(slot, a) ?? null) === JSON.stringify(slotToValue(slot, b) ?? null);

/**
 * Annotating a queue, or with `taskId`, revising one of this annotator's submitted tasks (its latest answers
 * load into the form; saving stores a revision that supersedes them).
 */
export function Annotate({ me, queueId, taskId }: { me: Me; queueId: string; taskId?: string }) {
  const revising = taskId !== undefined;
  const [queue, setQueue] = useState<Queue>();
  const [task, setTask] = useState<Task | null>();
  const [slots, setSlots] = useState<Slots>(() => keyed());
  const [active, setActive] = useState(0);
  const [status, setStatus] = useState("");
  const [error, setError] = useState<string>();
  const [missing, setMissing] = useState<string[]>([]);
  const [busy, setBusy] = useState(false);
  const [plain, setPlain] = useState(false);
  const [done, setDone] = useState(0);
  const [conflict, setConflict] = useState(false);
  const spanRefs = useRef(new Map<string, SpanHandle>());
  const dirty = useRef(false);
  const draftTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  /** Counts draft saves (and submissions): only the latest one's answer may set the status. */
  const saveSeq = useRef(0);
  const now = useNow(1000);

  const list = useMemo(() => (task ? slotsFor(task) : []), [task]);
  // Suggestions (Argilla-style): another source's answer, shown with each question and filled in until changed.
  const suggested = useMemo(() => (task?.suggestions?.length ? fromApiAnswers(task, suggestedAnswers(task)) : keyed()), [task]);
  const suggestionSource = useCallback(
    (slot: Slot) => task?.suggestions?.find((x) => x.question === slot.question.id && (slot.shownIndex === undefined ? x.slot === undefined : x.slot === slot.shownIndex))?.source,
    [task],
  );

  const loadNext = useCallback(async () => {
    setError(undefined);
    setConflict(false);
    setMissing([]);
    try {
      if (revising) {
        const { task: t } = await request<{ task: Task }>(`/v1/queues/${enc(queueId)}/tasks/${enc(taskId)}`);
        setSlots(keyed(fromApiAnswers(t, t.answers ?? {})));
        setActive(0);
        dirty.current = false;
        setTask(t);
        return;
      }
      const { task: t } = await request<{ task: Task | null }>(`/v1/queues/${enc(queueId)}/next`, { method: "POST", body: {} });
      if (t) {
        const local = readLocal(queueId, t.id);
        setSlots(keyed(local?.slots ?? (t.draft ? fromApiAnswers(t, t.draft) : t.suggestions?.length ? fromApiAnswers(t, suggestedAnswers(t)) : {})));
        setActive(0);
        dirty.current = false;
      }
      setTask(t);
    } catch (e) {
      setError(errorText(e));
      setTask(null);
    }
  }, [queueId, revising, taskId]);

  useEffect(() => {
    request<{ queue: Queue }>(`/v1/queues/${enc(queueId)}`).then(
      (r) => setQueue(r.queue),
      () => undefined,
    );
    void loadNext();
  }, [queueId, loadNext]);

  // Drafts: kept in this browser at once, and on the server a moment after the last change. "Draft saved" means
  // the latest change is on the server: a change shows "Saving draft…" until its own save is answered.
  // A submission or a skip cancels the pending save; a save that still arrives after it says nothing (the server
  // refuses it, 409, once the task is no longer this annotator's).
  useEffect(() => {
    if (!task || !dirty.current || revising) return;
    const prev = readLocal(queueId, task.id);
    writeLocal(queueId, task.id, { slots, savedAt: Date.now(), ...(prev?.submissionId ? { submissionId: prev.submissionId } : {}) });
    const seq = ++saveSeq.current;
    setStatus("Saving draft…");
    const t = setTimeout(() => {
      draftTimer.current = undefined;
      request(`/v1/queues/${enc(queueId)}/tasks/${enc(task.id)}/draft`, { method: "PUT", body: { answers: toApiAnswers(task, slots) } }).then(
        () => seq === saveSeq.current && dirty.current && setStatus("Draft saved"),
        (e) => {
          if (seq !== saveSeq.current) return;
          if (e instanceof ApiError && e.status === 409) {
            setStatus("");
            return;
          }
          setStatus(e instanceof ApiError ? `Draft kept in this browser (${errorText(e)})` : "Draft kept in this browser (the server could not be reached)");
        },
      );
    }, 600);
    draftTimer.current = t;
    return () => clearTimeout(t);
  }, [slots, task, queueId, revising]);

  const setSlot = useCallback((key: string, value: unknown) => {
    dirty.current = true;
    setSlots((s) => {
      const next = keyed(s);
      if (value === undefined) delete next[key];
      else next[key] = value;
      return next;
    });
  }, []);

  const submit = useCallback(async () => {
    if (!task || busy) return;
    const unanswered = list.filter((s) => s.question.required !== false && !isAnswered(s, slots[s.key]));
    if (unanswered.length) {
      setMissing(unanswered.map((s) => s.key));
      setError(`Answer ${unanswered.map((s) => s.title).join("; ")} first.`);
      const first = list.findIndex((s) => s.key === unanswered[0]!.key);
      setActive(first);
      document.getElementById(list[first]!.domId)?.focus();
      return;
    }
    setMissing([]);
    setError(undefined);
    setBusy(true);
    clearTimeout(draftTimer.current);
    draftTimer.current = undefined;
    saveSeq.current++;
    dirty.current = false;
    if (revising) {
      try {
        const r = await requestWithRetry<{ feedback: string[] }>(
          `/v1/queues/${enc(queueId)}/tasks/${enc(task.id)}/revise`,
          { body: { submissionId: newId(), answers: toApiAnswers(task, slots), revision: task.revision ?? 0 } },
          (attempt) => setStatus(`Connection lost while saving; retrying (attempt ${attempt + 1})…`),
        );
        navigate(`/queues/${enc(queueId)}/mine?saved=${enc(task.id)}&records=${r.feedback.length}`);
      } catch (e) {
        if (e instanceof ApiError && e.status === 409) setConflict(true);
        setError(errorText(e));
      } finally {
        setBusy(false);
      }
      return;
    }
    // One submission id per task, kept with the draft: a retry (even after a reload) is the same submission.
    const local = readLocal(queueId, task.id);
    const submissionId = local?.submissionId ?? newId();
    writeLocal(queueId, task.id, { slots, savedAt: Date.now(), submissionId });
    setStatus("Submitting…");
    try {
      const r = await requestWithRetry<{ feedback: string[] }>(
        `/v1/queues/${enc(queueId)}/tasks/${enc(task.id)}/submit`,
        { body: { submissionId, answers: toApiAnswers(task, slots) } },
        (attempt) => setStatus(`Connection lost while submitting; retrying (attempt ${attempt + 1})…`),
      );
      writeLocal(queueId, task.id, undefined);
      setDone((n) => n + 1);
      setStatus(`Submitted: ${r.feedback.length} feedback record${r.feedback.length === 1 ? "" : "s"} stored.`);
      await loadNext();
    } catch (e) {
      if (e instanceof ApiError && e.status === 409) setConflict(true);
      setError(errorText(e));
      setStatus("");
    } finally {
      setBusy(false);
    }
  }, [task, busy, list, slots, queueId, loadNext, revising]);

  const skip = useCallback(async () => {
    if (!task || busy) return;
    setBusy(true);
    clearTimeout(draftTimer.current);
    draftTimer.current = undefined;
    saveSeq.current++;
    dirty.current = false;
    try {
      await requestWithRetry(`/v1/queues/${enc(queueId)}/tasks/${enc(task.id)}/skip`, { method: "POST", body: {} });
      writeLocal(queueId, task.id, undefined);
      setStatus("Skipped.");
      await loadNext();
    } catch (e) {
      setError(errorText(e));
    } finally {
      setBusy(false);
    }
  }, [task, busy, queueId, loadNext]);

  // Keyboard: shortcuts act on the active question; text fields keep their keys (Esc leaves them).
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (!task) return;
      const target = document.activeElement;
      if ((e.ctrlKey || e.metaKey) && e.key === "Enter") {
        e.preventDefault();
        void submit();
        return;
      }
      if (inTextField(target)) {
        if (e.key === "Escape") (target as HTMLElement).blur();
        return;
      }
      if (e.ctrlKey || e.metaKey || e.altKey) return;
      // A focused radio button keeps its own arrow keys (they move its selection).
      if (e.key.startsWith("Arrow") && target instanceof HTMLInputElement && target.type === "radio") return;
      const slot = list[active];
      const move = (d: number) => {
        const i = Math.max(0, Math.min(list.length - 1, active + d));
        setActive(i);
        document.getElementById(list[i]!.domId)?.scrollIntoView({ block: "nearest" });
      };
      if (e.key === "ArrowDown" || e.key === "j") {
        e.preventDefault();
        move(1);
      } else if (e.key === "ArrowUp" || e.key === "k") {
        e.preventDefault();
        move(-1);
      } else if (e.key === "Enter" && !(target instanceof HTMLButtonElement) && !(target instanceof HTMLAnchorElement)) {
        e.preventDefault();
        void submit();
      } else if (e.key === "S" && e.shiftKey) {
        e.preventDefault();
        if (!revising) void skip();
      } else if (e.key === "a" && slot && slot.key in suggested) {
        e.preventDefault();
        setSlot(slot.key, suggested[slot.key]);
      } else if (e.key === "m") {
        setPlain((p) => !p);
      } else if (slot) {
        const handled = keyForSlot(e, slot, slots[slot.key], (v) => setSlot(slot.key, v), spanRefs.current.get(slot.key));
        if (handled) {
          e.preventDefault();
          if (slot.question.kind === "pairwise" && ["1", "2", "0"].includes(e.key) && !slot.question.strength && active < list.length - 1) move(1);
        }
      }
    };
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [task, list, active, slots, setSlot, submit, skip, revising, suggested]);

  if (task === undefined) return <p role="status">Getting your next task…</p>;
  if (task === null) {
    return (
      <section>
        <h1>{queue?.name ?? queueId}</h1>
        {error ? (
          <p className="error" role="alert">
            {error}
          </p>
        ) : (
          <p role="status">{done ? `Done: you submitted ${done} task${done === 1 ? "" : "s"}. ` : ""}There are no more tasks for you in this queue.</p>
        )}
        <p>
          <Link href={`/queues/${enc(queueId)}/mine`}>Review and revise the tasks you submitted</Link> · <Link href="/">Back to the queues</Link>
        </p>
      </section>
    );
  }

  const lockLeft = Math.max(0, Math.round((Date.parse(task.lockedUntil) - now) / 1000));
  const pair = task.generations.length > 1;
  return (
    <section className="annotate" aria-labelledby="task-title">
      <div className="title-row">
        <h1 id="task-title">{revising ? `Revise your answers: ${queue?.name ?? queueId}` : (queue?.name ?? "Annotate")}</h1>
        <p className="muted">
          {me.name} · task <code>{task.id}</code> ·{" "}
          {revising ? (
            <>
              submitted{task.revision ? `, revised ${task.revision} time${task.revision === 1 ? "" : "s"}` : ""} · <Link href={`/queues/${enc(queueId)}/mine`}>back to my submitted tasks</Link>
            </>
          ) : lockLeft > 0 ? (
            `locked to you for ${Math.floor(lockLeft / 60)}:${String(lockLeft % 60).padStart(2, "0")}`
          ) : (
            "lock expired"
          )}
        </p>
      </div>
      {!revising && (
        <p className="muted">
          <Link href={`/queues/${enc(queueId)}/mine`}>Review and revise the tasks you submitted</Link>
        </p>
      )}
      {(task.instructions ?? queue?.instructions) && (
        <details className="instructions" open>
          <summary>Instructions</summary>
          <Markdown text={(task.instructions ?? queue?.instructions)!} />
        </details>
      )}
      <div className="shortcuts" aria-label="Keyboard shortcuts">
        <span>
          <kbd>↑</kbd>
          <kbd>↓</kbd> question
        </span>
        {list.some((s) => s.question.kind === "pairwise") && (
          <span>
            <kbd>1</kbd>
            <kbd>2</kbd>
            {list.some((s) => s.question.kind === "pairwise" && s.question.allowTie) && <kbd>0</kbd>} pick {pair ? "response" : ""}
            {list.some((s) => s.question.kind === "pairwise" && s.question.allowTie) ? " / tie" : ""}
          </span>
        )}
        <span>
          <kbd>←</kbd>
          <kbd>→</kbd> change answer
        </span>
        <span>
          <kbd>e</kbd> edit text
        </span>
        {task.suggestions?.length ? (
          <span>
            <kbd>a</kbd> accept the suggestion
          </span>
        ) : null}
        <span>
          <kbd>Esc</kbd> leave a text field
        </span>
        <span>
          <kbd>m</kbd> markdown / plain
        </span>
        <span>
          <kbd>Enter</kbd> or <kbd>Ctrl</kbd>+<kbd>Enter</kbd> submit
        </span>
        {!revising && (
          <span>
            <kbd>Shift</kbd>+<kbd>S</kbd> skip
          </span>
        )}
      </div>

      <div className="prompt-box">
        <h2>Prompt</h2>
        <PromptView prompt={task.item.prompt} />
        {task.item.reference && (
          <details>
            <summary>Reference answer</summary>
            <Markdown text={task.item.reference} />
          </details>
        )}
      </div>

      <div className={pair ? "outputs two pinned" : "outputs"} data-testid="outputs">
        {task.generations.map((g, i) => (
          <article key={g.slot} className="output" aria-labelledby={`out-${i}`}>
            <h2 id={`out-${i}`}>
              {pair ? (
                <>
                  <kbd>{i + 1}</kbd> Response {i + 1}
                </>
              ) : (
                "Response"
              )}
            </h2>
            {plain ? <div className="plain">{g.output}</div> : <Markdown text={g.output} />}
          </article>
        ))}
      </div>

      <form
        className="questions"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
        aria-label="Questions"
      >
        {task.questions.map((q, qi) => {
          const card = (s: Slot, i: number, legend?: string) => {
            const source = suggestionSource(s);
            return (
              <QuestionCard
                key={s.key}
                index={i}
                slot={s}
                task={task}
                value={slots[s.key]}
                active={i === active}
                invalid={missing.includes(s.key)}
                onFocus={() => setActive(i)}
                onChange={(v) => setSlot(s.key, v)}
                spanRef={(h) => {
                  if (h) spanRefs.current.set(s.key, h);
                  else spanRefs.current.delete(s.key);
                }}
                {...(legend ? { legend } : {})}
                {...(source && s.key in suggested
                  ? { suggestion: { source: `${source.type} ${source.id}`, text: describe(s, suggested[s.key]), kept: sameAnswer(s, slots[s.key], suggested[s.key]), accept: () => setSlot(s.key, suggested[s.key]) } }
                  : {})}
              />
            );
          };
          const mine = list.map((s, i) => [s, i] as const).filter(([s]) => s.question === q);
          if (mine.length === 1) return card(mine[0]![0], mine[0]![1]);
          // Asked of each shown response: once, one column per response, under the responses it is about.
          return (
            <section key={q.id} className="question-group" aria-labelledby={`qg-${qi}`} data-testid="question-group">
              <h3 id={`qg-${qi}`} className="question-group-title">
                {q.prompt}
              </h3>
              {q.description && <p className="muted">{q.description}</p>}
              <div className="columns">
                {mine.map(([s, i]) => (
                  <Fragment key={s.key}>{card(s, i, `Response ${s.shownIndex! + 1}`)}</Fragment>
                ))}
              </div>
            </section>
          );
        })}
        {error && (
          <p className="error" role="alert">
            {error}{" "}
            {conflict && (
              <button type="button" className="secondary" onClick={() => void loadNext()}>
                {revising ? "Load the latest answers" : "Get a task again"}
              </button>
            )}
          </p>
        )}
        <div className="actions sticky">
          <button type="submit" disabled={busy}>
            {revising ? "Save revision" : "Submit"} <kbd>Enter</kbd>
          </button>
          {!revising && (
            <button type="button" className="secondary" onClick={() => void skip()} disabled={busy}>
              Skip <kbd>Shift+S</kbd>
            </button>
          )}
          <span className="muted" role="status" aria-live="polite" data-testid="annotate-status">
            {status}
          </span>
        </div>
      </form>
    </section>
  );
}

/** The keys of one question (see the shortcuts bar). Returns whether the key was used. */
function keyForSlot(e: KeyboardEvent, slot: Slot, value: unknown, set: (v: unknown) => void, spans?: SpanHandle): boolean {
  const q = slot.question;
  const v = (value ?? {}) as Record<string, unknown>;
  const focusEdit = () => {
    const el = document.querySelector<HTMLElement>(`#${CSS.escape(slot.domId)} textarea, #${CSS.escape(slot.domId)} input[type=text], #${CSS.escape(slot.domId)} input:not([type])`);
    if (el) {
      el.focus();
      return true;
    }
    return false;
  };
  switch (q.kind) {
    case "pairwise": {
      const strengths: Record<string, number> = { Digit1: 1 / 3, Digit2: 2 / 3, Digit3: 1 };
      if (e.shiftKey && q.strength && strengths[e.code] !== undefined && v.choice && v.choice !== "tie") {
        set({ ...v, strength: strengths[e.code] });
        return true;
      }
      if (e.shiftKey) return false;
      const choice = e.key === "1" || e.key === "ArrowLeft" ? "first" : e.key === "2" || e.key === "ArrowRight" ? "second" : e.key === "0" && q.allowTie ? "tie" : undefined;
      if (!choice) return false;
      set(choice === "tie" ? { choice } : { ...v, choice });
      return true;
    }
    case "ranking": {
      const n = slot.generations.length;
      const k = Number(e.key);
      if (e.key === "Backspace") {
        set(undefined);
        return true;
      }
      if (!Number.isInteger(k) || k < 1 || k > n) return false;
      const order = ((v.order as number[] | undefined) ?? []).filter((x) => x !== k - 1);
      order.push(k - 1);
      if (order.length === n - 1) for (let i = 0; i < n; i++) if (!order.includes(i)) order.push(i);
      set({ order });
      return true;
    }
    case "rating": {
      const min = q.min ?? 1;
      const max = q.max ?? 5;
      const cur = typeof v.score === "number" ? v.score : undefined;
      if (e.key === "ArrowLeft" || e.key === "ArrowRight") {
        const d = e.key === "ArrowLeft" ? -1 : 1;
        set({ score: Math.max(min, Math.min(max, cur === undefined ? (d > 0 ? min : max) : cur + d)) });
        return true;
      }
      const k = Number(e.key);
      if (/^[0-9]$/.test(e.key) && k >= min && k <= max) {
        set({ score: k });
        return true;
      }
      return false;
    }
    case "binary":
      if (e.key === "y" || e.key === "ArrowRight") set({ ok: true });
      else if (e.key === "n" || e.key === "ArrowLeft") set({ ok: false });
      else return false;
      return true;
    case "rubric": {
      const k = Number(e.key);
      const crit = q.criteria ?? [];
      if (!/^[1-9]$/.test(e.key) || k > crit.length) return false;
      if (crit[k - 1]!.maxScore !== undefined) {
        document.querySelector<HTMLInputElement>(`#${CSS.escape(slot.domId)} tbody tr:nth-child(${k}) input`)?.focus();
        return true;
      }
      const id = crit[k - 1]!.id;
      const checks = { ...((v.checks as Record<string, boolean | number>) ?? {}) };
      checks[id] = checks[id] === undefined ? true : !checks[id];
      set({ checks });
      return true;
    }
    case "span": {
      const labels = (q.labels as string[] | undefined) ?? [];
      const k = Number(e.key);
      if (/^[1-9]$/.test(e.key) && k <= labels.length && spans) return spans.labelSelection(labels[k - 1]!);
      if (e.key === "e") return focusEdit();
      return false;
    }
    case "critique":
      if (e.key === "p" && q.verdict !== false) set({ ...v, verdict: "pass" });
      else if (e.key === "f" && q.verdict !== false) set({ ...v, verdict: "fail" });
      else if (e.key === "e") return focusEdit();
      else return false;
      return true;
    case "correction":
      if (e.key === "u") {
        set({ ...v, output: slot.generations[0]?.output ?? "" });
        return true;
      }
      return e.key === "e" ? focusEdit() : false;
  }
  return false;
}
