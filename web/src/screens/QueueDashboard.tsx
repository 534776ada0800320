/** One queue: progress, agreement per question, judge-vs-human agreement, its tasks, annotator links, export and deletion. */
import { useCallback, useEffect, useState } from "react";
import { type Me, enc, errorText, request } from "../api";
import { ExportPanel } from "../components/Export";
import { Link } from "../components/Link";
import { ProgressBar } from "../components/Progress";
import { useLoad } from "../hooks";
import { navigate } from "../router";
import type { Queue } from "../types";
import type { QueueStats as Stats, QueueTaskList, Released, TaskStatusView } from "../../../src/api/index.js";

const num = (x: number | null | undefined, d = 2) => (x === null || x === undefined || !Number.isFinite(x) ? "–" : x.toFixed(d));
const pct = (x: number | null | undefined) => (x === null || x === undefined ? "–" : `${Math.round(x * 100)}%`);

function Invite() {
  const [name, setName] = useState("");
  const [link, setLink] = useState<string>();
  const [error, setError] = useState<string>();
  return (
    <section aria-labelledby="invite-title">
      <h2 id="invite-title">Invite an annotator</h2>
      <form
        className="row"
        onSubmit={async (e) => {
          e.preventDefault();
          setError(undefined);
          try {
            const r = await request<{ secret: string }>("/v1/keys", { body: { role: "annotate", ...(name.trim() ? { name: name.trim() } : {}) } });
            setLink(`${location.origin}/?key=${encodeURIComponent(r.secret)}`);
          } catch (err) {
            setError(errorText(err));
          }
        }}
      >
        <label htmlFor="invite-name">Annotator name</label>
        <input id="invite-name" value={name} onChange={(e) => setName(e.target.value)} placeholder="alice" />
        <button type="submit">Create link</button>
      </form>
      {link && (
        <p>
          Their link (shown once; it holds a new <code>annotate</code> key):{" "}
          <input aria-label="Annotator link" readOnly value={link} onFocus={(e) => e.target.select()} className="wide" />
        </p>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}

type TaskStatus = TaskStatusView;

const PAGE = 25;

/** The queue's tasks, a page at a time, with who holds or answered each; admins can free a held task. */
function QueueTasks({ me, queueId, version, onChange }: { me: Me; queueId: string; version: number; onChange: () => void }) {
  const [offset, setOffset] = useState(0);
  const [message, setMessage] = useState<string>();
  const { data, error, reload } = useLoad(
    (signal) => request<QueueTaskList>(`/v1/queues/${enc(queueId)}/tasks?offset=${offset}&limit=${PAGE}`, { signal }),
    [queueId, offset, version],
  );
  const release = async (t: TaskStatus) => {
    setMessage(undefined);
    try {
      const r = await request<Released>(`/v1/queues/${enc(queueId)}/tasks/${enc(t.id)}/release`, { method: "POST" });
      setMessage(`Task ${t.position}: ${r.released === 0 ? "it was no longer held" : "freed; its holder keeps their draft"}.`);
      reload();
      onChange();
    } catch (e) {
      setMessage(errorText(e));
    }
  };
  const total = data?.total ?? 0;
  return (
    <section aria-labelledby="tasks-title">
      <h2 id="tasks-title">Tasks</h2>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <p role="status" className="muted">
        {message ?? (data ? `Tasks ${total === 0 ? 0 : offset + 1}–${Math.min(offset + PAGE, total)} of ${total}.` : "Loading tasks…")}
      </p>
      {data && data.tasks.length > 0 && (
        <table aria-label="Tasks of this queue">
          <thead>
            <tr>
              <th scope="col">#</th>
              <th scope="col">item</th>
              <th scope="col">annotators</th>
              {me.role === "admin" && <th scope="col">action</th>}
            </tr>
          </thead>
          <tbody>
            {data.tasks.map((t) => {
              const live = t.claims.filter((c) => c.status === "locked");
              return (
                <tr key={t.id}>
                  <th scope="row">{t.position}</th>
                  <td>
                    <code>{t.itemId}</code>
                  </td>
                  <td>
                    {t.claims.length === 0
                      ? "–"
                      : t.claims.map((c) => (
                          <div key={c.annotator}>
                            {c.annotator}: {c.status}
                            {c.lockedUntil ? ` until ${new Date(c.lockedUntil).toLocaleTimeString()}` : ""}
                            {c.hasDraft && c.status !== "submitted" ? " (draft)" : ""}
                          </div>
                        ))}
                  </td>
                  {me.role === "admin" && (
                    <td>
                      {t.claims.some((c) => c.status === "submitted") && (
                        <Link href={`/queues/${enc(queueId)}/tasks/${enc(t.id)}`}>
                          Compare and adjudicate<span className="sr-only"> task {t.position}</span>
                        </Link>
                      )}{" "}
                      {live.length > 0 && (
                        <button type="button" className="secondary" onClick={() => void release(t)} aria-label={`Release task ${t.position} (held by ${live.map((c) => c.annotator).join(", ")})`}>
                          Release
                        </button>
                      )}
                    </td>
                  )}
                </tr>
              );
            })}
          </tbody>
        </table>
      )}
      {total > PAGE && (
        <p className="actions">
          <button type="button" className="secondary" disabled={offset === 0} onClick={() => setOffset(Math.max(0, offset - PAGE))}>
            Previous tasks
          </button>
          <button type="button" className="secondary" disabled={offset + PAGE >= total} onClick={() => setOffset(offset + PAGE)}>
            Next tasks
          </button>
        </p>
      )}
    </section>
  );
}

/** Deleting asks twice; the feedback already submitted is kept. */
function DeleteQueue({ queue }: { queue: Queue }) {
  const [asking, setAsking] = useState(false);
  const [error, setError] = useState<string>();
  return (
    <section aria-labelledby="delete-title">
      <h2 id="delete-title">Delete this queue</h2>
      {!asking ? (
        <button type="button" className="secondary" onClick={() => setAsking(true)}>
          Delete queue…
        </button>
      ) : (
        <div role="group" aria-labelledby="delete-title">
          <p>
            This deletes the queue's tasks, the locks on them and unsubmitted drafts. The feedback already submitted through it stays in the project.
          </p>
          <p className="actions">
            <button
              type="button"
              className="danger"
              onClick={async () => {
                setError(undefined);
                try {
                  await request(`/v1/queues/${enc(queue.id)}`, { method: "DELETE" });
                  navigate("/queues");
                } catch (e) {
                  setError(errorText(e));
                }
              }}
            >
              Delete “{queue.name}”
            </button>
            <button type="button" className="secondary" onClick={() => setAsking(false)}>
              Cancel
            </button>
          </p>
        </div>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </section>
  );
}

export function QueueDashboard({ me, queueId }: { me: Me; queueId: string }) {
  const { data, error, reload } = useLoad(
    async (signal) => {
      const [q, stats] = await Promise.all([request<{ queue: Queue }>(`/v1/queues/${enc(queueId)}`, { signal }), request<Stats>(`/v1/queues/${enc(queueId)}/stats`, { signal })]);
      return { queue: q.queue, stats };
    },
    [queueId],
  );
  // Progress, agreement and who holds which task change while annotators work: refresh every 15 seconds.
  const [version, setVersion] = useState(0);
  const refresh = useCallback(() => {
    reload();
    setVersion((v) => v + 1);
  }, [reload]);
  useEffect(() => {
    const t = setInterval(refresh, 15_000);
    return () => clearInterval(t);
  }, [refresh]);
  if (error)
    return (
      <section>
        <h1>Queue</h1>
        <p className="error" role="alert">
          {error}
        </p>
      </section>
    );
  if (!data) return <p role="status">Loading the queue…</p>;
  const { queue, stats } = data;
  return (
    <section>
      <div className="title-row">
        <h1>{queue.name}</h1>
        <p className="actions">
          <button type="button" className="secondary" onClick={refresh}>
            Refresh
          </button>
          {me.role === "admin" && (
            <Link className="button secondary" href={`/queues/${enc(queue.id)}/annotate`}>
              Annotate
            </Link>
          )}
        </p>
      </div>
      <p className="muted">
        id <code>{queue.id}</code> · {queue.questions.length} question{queue.questions.length === 1 ? "" : "s"} · {queue.annotatorsPerItem} annotator
        {queue.annotatorsPerItem === 1 ? "" : "s"} per task
      </p>
      <ProgressBar progress={stats.progress} label={`Progress of ${queue.name}`} />

      <h2>Annotators</h2>
      {stats.annotators.length === 0 ? (
        <p className="muted">Nobody has taken a task yet.</p>
      ) : (
        <table>
          <thead>
            <tr>
              <th scope="col">annotator</th>
              <th scope="col">submitted</th>
              <th scope="col">skipped</th>
            </tr>
          </thead>
          <tbody>
            {stats.annotators.map((a) => (
              <tr key={a.id}>
                <th scope="row">{a.id}</th>
                <td>{a.submitted}</td>
                <td>{a.skipped}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}

      <h2>Agreement per question</h2>
      <p className="muted">
        Krippendorff's alpha over all annotators (nominal or interval by the question's kind), Cohen's kappa for each pair of annotators who overlap. Span questions: the F1 of
        two annotators' labelled spans (same label, overlapping); corrections: how similar their edits are (2·LCS of words / words).
      </p>
      <table data-testid="agreement">
        <thead>
          <tr>
            <th scope="col">question</th>
            <th scope="col">kind</th>
            <th scope="col">records</th>
            <th scope="col">units</th>
            <th scope="col">alpha</th>
            <th scope="col">annotator pairs (n, agreement, kappa)</th>
          </tr>
        </thead>
        <tbody>
          {stats.questions.map((q) => (
            <tr key={q.id}>
              <th scope="row">{q.id}</th>
              <td>{q.kind}</td>
              <td>{q.records}</td>
              <td>{q.units}</td>
              <td>{q.level ? num(q.alpha) : "n/a"}</td>
              <td>
                {q.pairs.length === 0
                  ? "–"
                  : q.pairs.map((p) => (
                      <div key={p.annotators.join("|")}>
                        {p.annotators[0]} & {p.annotators[1]}: n={p.n}, {q.kind === "span" ? "F1 " : q.kind === "correction" ? "similarity " : ""}
                        {pct(p.agreement)}
                        {q.level ? `, κ=${num(p.kappa)}` : ""}
                      </div>
                    ))}
              </td>
            </tr>
          ))}
        </tbody>
      </table>

      <h2>Judges against the human consensus</h2>
      {stats.questions.every((q) => q.judges.length === 0) ? (
        <p className="muted">No AI judgements (judge, critic or simulated feedback) on the same outputs yet.</p>
      ) : (
        <table data-testid="judge-agreement">
          <thead>
            <tr>
              <th scope="col">question</th>
              <th scope="col">judge</th>
              <th scope="col">n</th>
              <th scope="col">agreement</th>
              <th scope="col">kappa</th>
              <th scope="col">alpha</th>
            </tr>
          </thead>
          <tbody>
            {stats.questions.flatMap((q) =>
              q.judges.map((j) => (
                <tr key={`${q.id}|${j.source.type}|${j.source.id}`}>
                  <th scope="row">{q.id}</th>
                  <td>
                    {j.source.id} <span className="muted">({j.source.type})</span>
                  </td>
                  <td>{j.n}</td>
                  <td>{pct(j.agreement)}</td>
                  <td>{num(j.kappa)}</td>
                  <td>{num(j.alpha)}</td>
                </tr>
              )),
            )}
          </tbody>
        </table>
      )}

      {stats.questions.some((q) => q.suggestions?.length) && (
        <>
          <h2>Suggestions kept</h2>
          <p className="muted">How often annotators submitted a source's suggested answer unchanged: a measure of how far people agree with the model that suggests.</p>
          <table data-testid="suggestion-acceptance">
            <thead>
              <tr>
                <th scope="col">question</th>
                <th scope="col">source</th>
                <th scope="col">kept</th>
              </tr>
            </thead>
            <tbody>
              {stats.questions.flatMap((q) =>
                (q.suggestions ?? []).map((s) => (
                  <tr key={`${q.id}|${s.source.type}|${s.source.id}`}>
                    <th scope="row">{q.id}</th>
                    <td>
                      {s.source.id} <span className="muted">({s.source.type})</span>
                    </td>
                    <td>
                      {s.accepted} of {s.shown} ({pct(s.rate)})
                    </td>
                  </tr>
                )),
              )}
            </tbody>
          </table>
        </>
      )}
      <p>
        <Link href={`/dashboard?queueId=${enc(queue.id)}`}>Distributions of this queue's answers</Link>
      </p>
      <QueueTasks me={me} queueId={queue.id} version={version} onChange={reload} />
      {me.role === "admin" && <Invite />}
      <ExportPanel filters={{ queueId: queue.id }} title="Export this queue's feedback" />
      {me.role === "admin" && <DeleteQueue queue={queue} />}
    </section>
  );
}
