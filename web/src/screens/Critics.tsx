/**
 * Critic evaluations saved with `rlxf critic eval ... --save NAME` (RealCritic's closed loop): the list, and one
 * evaluation: accuracy before and after revision per task, solutions fixed and broken, the critic's
 * discriminability, accuracy per round of iterative critique, and every number in a table.
 */
import { enc, request } from "../api";
import { Link } from "../components/Link";
import { GroupedBars, type LineSeries, LinePlot } from "../components/Plots";
import { useLoad } from "../hooks";
import { navigate } from "../router";

interface Setting {
  mode: "self" | "cross";
  label: string;
  rounds: number;
  critic: string;
  actor: string;
  judge: string;
  reviseOnPass: boolean;
}
interface Metrics {
  solutions: number;
  correctBefore: number;
  wrongBefore: number;
  accuracyBefore: number;
  verdicts: { passCorrect: number; failWrong: number; failCorrect: number; passWrong: number; noneCorrect: number; noneWrong: number };
  verdictAccuracy: number;
  balancedAccuracy: number;
  errorDetection: { precision: number | null; recall: number | null; f1: number | null };
  correctAfter: number;
  accuracyAfter: number;
  accuracyPerRound: number[];
  delta: number;
  fixed: number;
  broken: number;
  fixRate: number | null;
  breakRate: number | null;
  revised: number;
  errors: number;
  tokens: { critic: number; actor: number; total: number };
  calls: { critic: number; actor: number };
  costUsd: number | null;
  tokensPerFixed: number | null;
  costPerFixedUsd: number | null;
}
interface Summary {
  name: string;
  version: number;
  description?: string;
  createdAt: string;
  setting: Setting;
  solutions: number;
  tasks: string[];
  accuracyBefore: number;
  accuracyAfter: number;
  verdictAccuracy: number;
  balancedAccuracy: number;
  f1: number | null;
  fixed: number;
  broken: number;
  tokensPerFixed: number | null;
  costPerFixedUsd: number | null;
}
type Saved = Summary & { versions: number[]; result: { setting: Setting; overall: Metrics; tasks: Array<Metrics & { task: string }>; seconds: number } };

const pct = (v: number | null | undefined, d = 1) => (v === null || v === undefined || !Number.isFinite(v) ? "–" : `${(100 * v).toFixed(d)}%`);
const num = (v: number | null | undefined, d = 0) => (v === null || v === undefined || !Number.isFinite(v) ? "–" : v.toFixed(d));
const usd = (v: number | null | undefined) => (v === null || v === undefined || !Number.isFinite(v) ? "–" : `$${v.toFixed(4)}`);
const when = (iso: string) => new Date(iso).toLocaleString();
const p100 = (v: number | null | undefined) => (v === null || v === undefined ? undefined : 100 * v);

export function CriticList() {
  const { data, error, loading } = useLoad((signal) => request<{ results: Summary[] }>("/v1/critics/results", { signal }), []);
  const results = data?.results ?? [];
  return (
    <section>
      <h1>Critic evaluations</h1>
      <p className="muted">
        Does a critic help? Each solution is critiqued, an actor revises it from the critique, and the task's verifier checks the revision (RealCritic's closed loop). Save
        one with <code>rlxf critic eval SOLUTIONS --save NAME</code>.
      </p>
      {loading && !data && <p role="status">Loading evaluations…</p>}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {data && results.length === 0 && <p>No saved critic evaluations in this project yet.</p>}
      {results.length > 0 && (
        <table aria-label="Saved critic evaluations">
          <thead>
            <tr>
              <th scope="col">name</th>
              <th scope="col">setting</th>
              <th scope="col">critic</th>
              <th scope="col">actor</th>
              <th scope="col" className="num">
                solutions
              </th>
              <th scope="col" className="num">
                accuracy before → after
              </th>
              <th scope="col" className="num">
                verdict accuracy
              </th>
              <th scope="col" className="num">
                fixed / broken
              </th>
              <th scope="col">saved</th>
            </tr>
          </thead>
          <tbody>
            {results.map((r) => (
              <tr key={r.name}>
                <th scope="row">
                  <Link href={`/critics/${enc(r.name)}`}>{r.name}</Link>
                  {r.version > 1 && <span className="muted"> v{r.version}</span>}
                  {r.description && <div className="muted desc">{r.description}</div>}
                </th>
                <td>{r.setting.label}</td>
                <td>{r.setting.critic}</td>
                <td>{r.setting.actor}</td>
                <td className="num">{r.solutions}</td>
                <td className="num">
                  {pct(r.accuracyBefore)} → {pct(r.accuracyAfter)}
                </td>
                <td className="num">{pct(r.verdictAccuracy)}</td>
                <td className="num">
                  {r.fixed} / {r.broken}
                </td>
                <td>{when(r.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

export function CriticResult({ name, version }: { name: string; version?: number }) {
  const { data, error, loading } = useLoad(
    (signal) => request<Saved>(`/v1/critics/results/${enc(name)}${version ? `?version=${version}` : ""}`, { signal }),
    [name, version],
  );
  return (
    <section>
      <p>
        <Link href="/critics">← Critic evaluations</Link>
      </p>
      <h1>{name}</h1>
      {loading && !data && <p role="status">Loading…</p>}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {data && (
        <>
          <p className="muted">
            Saved {when(data.createdAt)}
            {data.description ? ` · ${data.description}` : ""}
          </p>
          {data.versions.length > 1 && (
            <div className="row">
              <label htmlFor="critic-version">Version</label>
              <select id="critic-version" value={data.version} onChange={(e) => navigate(`/critics/${enc(name)}?version=${e.target.value}`)}>
                {data.versions.map((v) => (
                  <option key={v} value={v}>
                    {v}
                    {v === data.versions[0] ? " (latest)" : ""}
                  </option>
                ))}
              </select>
            </div>
          )}
          <EvaluationView result={data.result} />
        </>
      )}
    </section>
  );
}

function EvaluationView({ result }: { result: Saved["result"] }) {
  const { setting: s, overall: o, tasks } = result;
  const rows = [...tasks, { ...o, task: "all" }];
  const cats = rows.map((r) => r.task);
  const describe = (what: string, parts: string[]) => `${what}. ${parts.join("; ")}.`;
  const roundSeries: LineSeries[] = rows.map((r) => ({ name: r.task, points: r.accuracyPerRound.map((a, i) => ({ x: i, y: 100 * a })) }));
  return (
    <>
      <ul className="stats" aria-label="Evaluation summary">
        <li>
          <span className="value">{s.label}</span>
          <span className="name">
            critic {s.critic} ({s.judge}), actor {s.actor}
            {s.reviseOnPass ? ", passed solutions revised too" : ""}
          </span>
        </li>
        <li>
          <span className="value">
            {pct(o.accuracyBefore)} → {pct(o.accuracyAfter)}
          </span>
          <span className="name">accuracy before → after ({o.solutions} solutions)</span>
        </li>
        <li>
          <span className="value">
            {o.fixed} / {o.broken}
          </span>
          <span className="name">
            fixed / broken ({pct(o.fixRate)} of wrong, {pct(o.breakRate)} of right)
          </span>
        </li>
        <li>
          <span className="value">{pct(o.verdictAccuracy)}</span>
          <span className="name">
            verdict accuracy (balanced {pct(o.balancedAccuracy)}, error F1 {num(o.errorDetection.f1, 3)})
          </span>
        </li>
        <li>
          <span className="value">{num(o.tokensPerFixed)}</span>
          <span className="name">tokens per fixed solution{o.costPerFixedUsd !== null ? ` (${usd(o.costPerFixedUsd)})` : ""}</span>
        </li>
        {o.errors > 0 && (
          <li>
            <span className="value">{o.errors}</span>
            <span className="name">solutions with a failed critique or revision</span>
          </li>
        )}
      </ul>

      <div className="grid-plots">
        <GroupedBars
          title="Accuracy before and after revision (%)"
          description={describe(
            "Share of solutions that are correct before critique and after the actor's revision",
            rows.map((r) => `${r.task}: ${pct(r.accuracyBefore)} → ${pct(r.accuracyAfter)}`),
          )}
          categories={cats}
          series={[
            { name: "before", values: rows.map((r) => 100 * r.accuracyBefore) },
            { name: "after", values: rows.map((r) => 100 * r.accuracyAfter) },
          ]}
          xLabel="task"
          yLabel="accuracy (%)"
          yDomain={[0, 100]}
        />
        <GroupedBars
          title="Solutions fixed and broken"
          description={describe(
            "Wrong solutions the revision made right (fixed) and right ones it made wrong (broken)",
            rows.map((r) => `${r.task}: ${r.fixed} fixed, ${r.broken} broken`),
          )}
          categories={cats}
          series={[
            { name: "fixed", values: rows.map((r) => r.fixed) },
            { name: "broken", values: rows.map((r) => r.broken) },
          ]}
          xLabel="task"
          yLabel="solutions"
          digits={0}
        />
        <GroupedBars
          title="Discriminability (%)"
          description={describe(
            "The critic's first verdict against the correctness labels: accuracy, balanced accuracy, and F1 of detecting wrong solutions",
            rows.map((r) => `${r.task}: accuracy ${pct(r.verdictAccuracy)}, balanced ${pct(r.balancedAccuracy)}, F1 ${num(r.errorDetection.f1, 3)}`),
          )}
          categories={cats}
          series={[
            { name: "verdict accuracy", values: rows.map((r) => 100 * r.verdictAccuracy) },
            { name: "balanced accuracy", values: rows.map((r) => 100 * r.balancedAccuracy) },
            { name: "error-detection F1", values: rows.map((r) => p100(r.errorDetection.f1)) },
          ]}
          xLabel="task"
          yLabel="%"
          yDomain={[0, 100]}
        />
        {s.rounds > 1 && (
          <LinePlot
            title="Accuracy per round (%)"
            description={describe(
              "Accuracy before critique (round 0) and after each round of critique and revision",
              roundSeries.map((r) => `${r.name}: ${r.points.map((p) => `${num(p.y, 1)}`).join(", ")}`),
            )}
            series={roundSeries}
            xLabel="round"
            yLabel="accuracy (%)"
            yDomain={[0, 100]}
            digits={1}
          />
        )}
      </div>

      <h2 id="critic-metrics">Metrics per task</h2>
      <div className="table-scroll" role="region" aria-labelledby="critic-metrics" tabIndex={0}>
        <table aria-label="Metrics per task">
          <thead>
            <tr>
              <th scope="col">task</th>
              {["solutions", "accuracy before", "accuracy after", "Δ", "fixed", "broken", "verdict accuracy", "balanced accuracy", "precision", "recall", "error F1", "tokens", "tokens / fixed", "cost / fixed", "errors"].map((h) => (
                <th key={h} scope="col" className="num">
                  {h}
                </th>
              ))}
            </tr>
          </thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.task}>
                <th scope="row">{r.task}</th>
                <td className="num">{r.solutions}</td>
                <td className="num">{pct(r.accuracyBefore)}</td>
                <td className="num">{pct(r.accuracyAfter)}</td>
                <td className="num">{pct(r.delta)}</td>
                <td className="num">{r.fixed}</td>
                <td className="num">{r.broken}</td>
                <td className="num">{pct(r.verdictAccuracy)}</td>
                <td className="num">{pct(r.balancedAccuracy)}</td>
                <td className="num">{num(r.errorDetection.precision, 3)}</td>
                <td className="num">{num(r.errorDetection.recall, 3)}</td>
                <td className="num">{num(r.errorDetection.f1, 3)}</td>
                <td className="num">{r.tokens.total}</td>
                <td className="num">{num(r.tokensPerFixed)}</td>
                <td className="num">{usd(r.costPerFixedUsd)}</td>
                <td className="num">{r.errors}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </>
  );
}
