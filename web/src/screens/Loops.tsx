/**
 * Test-time loop runs (`rlxf loop ...`): the list, and a run's report: accuracy per turn, feedback friction, the
 * confidence / critique decomposition, tokens and cost per solved task, why tasks stopped, and each task.
 */
import type { LoopRunList, LoopRunReport } from "../../../src/api/index.js";
import { enc, request } from "../api";
import { Link } from "../components/Link";
import { Histogram, LinePlot } from "../components/Plots";
import { useLoad } from "../hooks";


const pct = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? "–" : `${(100 * v).toFixed(1)}%`);
const num = (v: number | null | undefined, d = 0) => (v === null || v === undefined || !Number.isFinite(v) ? "–" : v.toFixed(d));
const when = (iso: string) => new Date(iso).toLocaleString();

export function LoopList() {
  const { data, error, loading } = useLoad((signal) => request<LoopRunList>("/v1/loops/runs?limit=200", { signal }), []);
  const runs = data?.runs ?? [];
  return (
    <section>
      <h1>Loop runs</h1>
      <p className="muted">
        Test-time loops (critique → refine, try again, Reflexion, best-of-n, multi-turn) run with <code>rlxf loop …</code>, with every step stored.
      </p>
      {loading && !data && <p role="status">Loading runs…</p>}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {data && runs.length === 0 && <p>No loop runs in this project yet.</p>}
      {runs.length > 0 && (
        <table aria-label="Loop runs">
          <thead>
            <tr>
              <th scope="col">run</th>
              <th scope="col">loop</th>
              <th scope="col">status</th>
              <th scope="col" className="num">
                tasks
              </th>
              <th scope="col" className="num">
                solved
              </th>
              <th scope="col">started</th>
            </tr>
          </thead>
          <tbody>
            {runs.map((r) => (
              <tr key={r.id}>
                <th scope="row">
                  <Link href={`/loops/${enc(r.id)}`}>{r.id}</Link>
                </th>
                <td>{r.loop}</td>
                <td>{r.status}</td>
                <td className="num">{num(r.summary?.tasks)}</td>
                <td className="num">{r.summary ? `${num(r.summary.solved)} (${pct(r.summary.accuracy)})` : "–"}</td>
                <td>{when(r.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

export function LoopRunView({ id }: { id: string }) {
  const { data, error, loading } = useLoad((signal) => request<LoopRunReport>(`/v1/loops/runs/${enc(id)}`, { signal }), [id]);
  const s = data?.summary;
  const stops = s ? Object.entries(s.stops).sort((a, b) => b[1] - a[1]) : [];
  const bestOfN = s?.loop === "best-of-n";
  return (
    <section>
      <p>
        <Link href="/loops">← Loop runs</Link>
      </p>
      <h1>{id}</h1>
      {loading && !data && <p role="status">Loading…</p>}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {data && s && (
        <>
          <p className="muted">
            {data.run.loop} loop · {data.run.status} · started {when(data.run.createdAt)}
            {typeof data.run.config.policy === "string" ? ` · policy ${data.run.config.policy}` : ""}
          </p>
          <ul className="stats" aria-label="Run metrics">
            <li>
              <span className="value">{pct(s.accuracy)}</span>
              <span className="name">
                solved ({s.solved} of {s.tasks} tasks)
              </span>
            </li>
            <li>
              <span className="value">{num(s.meanAttempts, 2)}</span>
              <span className="name">{bestOfN ? "candidates" : "attempts"} per task</span>
            </li>
            {s.friction && (
              <li>
                <span className="value">{num(s.friction.friction, 2)}</span>
                <span className="name">
                  feedback friction ({s.friction.fixed} of {s.friction.pointedAt} flagged errors fixed next)
                </span>
              </li>
            )}
            {s.selfCorrection && (
              <>
                <li>
                  <span className="value">{pct(s.selfCorrection.confidence)}</span>
                  <span className="name">
                    confidence: correct stays correct ({s.selfCorrection.stayedCorrect}/{s.selfCorrection.correctBefore})
                  </span>
                </li>
                <li>
                  <span className="value">{pct(s.selfCorrection.critique)}</span>
                  <span className="name">
                    critique: wrong becomes correct ({s.selfCorrection.becameCorrect}/{s.selfCorrection.wrongBefore})
                  </span>
                </li>
              </>
            )}
            {s.selection && (
              <li>
                <span className="value">
                  {s.selection.selectedCorrect} / {s.selection.firstCorrect} / {s.selection.anyCorrect}
                </span>
                <span className="name">picked correct / first correct / any correct</span>
              </li>
            )}
            <li>
              <span className="value">{num(s.tokensPerSolved)}</span>
              <span className="name">tokens per solved task ({s.tokens} in all)</span>
            </li>
            <li>
              <span className="value">{s.costPerSolvedUsd === null ? "–" : `$${s.costPerSolvedUsd.toFixed(4)}`}</span>
              <span className="name">cost per solved task</span>
            </li>
            {(s.rejectedRepeats > 0 || s.resubmitted > 0) && (
              <li>
                <span className="value">
                  {s.rejectedRepeats} / {s.resubmitted}
                </span>
                <span className="name">repeats turned back / resubmitted</span>
              </li>
            )}
          </ul>
          <div className="grid-plots">
            {s.accuracyPerTurn.length > 0 && (
              <LinePlot
                title={bestOfN ? "Accuracy by number of candidates (pass@k, %)" : "Accuracy per turn (%)"}
                description={`${bestOfN ? "Share of tasks with a correct answer among the first k candidates" : "Share of tasks whose latest answer by each turn is correct"}: ${s.accuracyPerTurn
                  .map((a, t) => `${bestOfN ? "k" : "turn"} ${t + 1}: ${(100 * a).toFixed(1)}%`)
                  .join(", ")}.`}
                series={[{ name: "accuracy", points: s.accuracyPerTurn.map((a, t) => ({ x: t + 1, y: 100 * a })) }]}
                xLabel={bestOfN ? "candidates k" : "turn"}
                yLabel="accuracy (%)"
                yDomain={[0, 100]}
                digits={1}
              />
            )}
            {stops.length > 0 && (
              <Histogram
                title="Why tasks stopped"
                description={`Tasks by stop reason: ${stops.map(([k, v]) => `${k}: ${v}`).join(", ")}.`}
                bins={stops.map(([k]) => k)}
                series={[{ name: "tasks", counts: stops.map(([, v]) => v) }]}
                xLabel="stop reason"
              />
            )}
          </div>
          <h2>Tasks</h2>
          <table aria-label="Tasks">
            <thead>
              <tr>
                <th scope="col">task</th>
                <th scope="col">solved</th>
                <th scope="col" className="num">
                  {bestOfN ? "candidates" : "attempts"}
                </th>
                <th scope="col">stop</th>
                <th scope="col" className="num">
                  tokens
                </th>
              </tr>
            </thead>
            <tbody>
              {data.tasks.map((t) => (
                <tr key={t.taskId}>
                  <th scope="row">{t.taskId}</th>
                  <td>{t.solved ? "yes" : "no"}</td>
                  <td className="num">{t.attempts}</td>
                  <td>
                    {t.stop}
                    {t.error && <span className="error"> {t.error}</span>}
                  </td>
                  <td className="num">{t.tokens}</td>
                </tr>
              ))}
            </tbody>
          </table>
          <p className="muted">
            The outputs and the feedback on them: <code>rlxf loop report {id} --json</code>, or <code>GET /v1/loops/runs/{id}?outputs=true</code>.
          </p>
        </>
      )}
    </section>
  );
}
