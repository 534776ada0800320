/** One queue: progress, agreement per question, judge-vs-human agreement, annotator links and export. */
import { useEffect, useState } from "react";
import { type Me, enc, errorText, request } from "../api";
import { ExportPanel } from "../components/Export";
import { Link } from "../components/Link";
import { ProgressBar } from "../components/Progress";
import { useLoad } from "../hooks";
import type { Progress, Queue } from "../types";

interface PairAgreement {
  annotators: [string, string];
  n: number;
  agreement: number | null;
  kappa: number | null;
}
interface QuestionStats {
  id: string;
  kind: string;
  records: number;
  level: string | null;
  units: number;
  alpha: number | null;
  pairs: PairAgreement[];
  judges: { source: { type: string; id: string }; n: number; agreement: number | null; kappa: number | null; alpha: number | null }[];
  measure?: string;
}
interface Stats {
  progress: Progress;
  tasks: number;
  annotators: { id: string; submitted: number; skipped: number }[];
  questions: QuestionStats[];
}

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

export function QueueDashboard({ me, queueId }: { me: Me; queueId: string }) {
  const { data, error, reload } = useLoad(
    async (signal) => {
      const [q, stats] = await Promise.all([request<{ queue: Queue }>(`/v1/queues/${enc(queueId)}`, { signal }), request<Stats>(`/v1/queues/${enc(queueId)}/stats`, { signal })]);
      return { queue: q.queue, stats };
    },
    [queueId],
  );
  // Progress and agreement change while annotators work: refresh every 15 seconds.
  useEffect(() => {
    const t = setInterval(reload, 15_000);
    return () => clearInterval(t);
  }, [reload]);
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
          <button type="button" className="secondary" onClick={reload}>
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

      <p>
        <Link href={`/dashboard?queueId=${enc(queue.id)}`}>Distributions of this queue's answers</Link>
      </p>
      {me.role === "admin" && <Invite />}
      <ExportPanel filters={{ queueId: queue.id }} title="Export this queue's feedback" />
    </section>
  );
}
