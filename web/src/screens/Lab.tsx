/**
 * Lab results saved with `rlxf lab run|sweep --save NAME`: the list, a run's curves over training (gold win rate,
 * KL to the reference, proxy reward: where over-optimisation shows) and table, a sweep's win rates against label
 * noise and label budget.
 */
import type { LabResultSummary } from "../../../src/api/index.js";
import { enc, request } from "../api";
import { Link } from "../components/Link";
import { IntervalPlot, type LineSeries, LinePlot } from "../components/Plots";
import { useLoad } from "../hooks";
import { navigate } from "../router";
import { LabRunForm } from "./JobsLab";

interface CurvePoint {
  step: number;
  winRate: number;
  length: number;
  kl: number;
  proxyReward?: number;
}
interface MethodResult {
  method: string;
  winRate: number;
  lcWinRate?: number;
  length: number;
  kl: number;
  proxyReward?: number;
  labels: number;
  seconds: number;
  curve: CurvePoint[];
}
interface RunResult {
  feedback: string;
  pFlip: number;
  lengthBias: number;
  labels: number;
  seed: number;
  environment: { instructions: number; train: number; test: number; models: number; candidates: number };
  proxy?: { testAccuracy: number; seconds: number; accuracy?: { mean: number; sd: number; seeds: number } };
  methods: MethodResult[];
  seconds: number;
}
interface SweepRow {
  method: string;
  pFlip: number;
  labels: number;
  seed: number;
  winRate: number;
  lcWinRate?: number;
  length: number;
  kl: number;
  labelsUsed: number;
  seconds: number;
}
type Summary = LabResultSummary;
/** A saved result: the API declares its summary; the body is what `rlxf lab ... --json` prints. */
type Saved = Summary & {
  versions: number[];
  result: { type: "run"; run: RunResult } | { type: "sweep"; grid: { methods: string[]; pFlips: number[]; labels: number[]; seeds: number[]; environment?: RunResult["environment"] }; rows: SweepRow[]; seconds: number };
};

const f = (v: number | undefined, d = 1) => (v === undefined || !Number.isFinite(v) ? "–" : v.toFixed(d));
const when = (iso: string) => new Date(iso).toLocaleString();

export function LabList({ canRun = false }: { canRun?: boolean }) {
  const { data, error, loading } = useLoad((signal) => request<{ results: Summary[] }>("/v1/lab/results", { signal }), []);
  const results = data?.results ?? [];
  return (
    <section>
      <h1>Lab results</h1>
      <p className="muted">
        Methods that learn from feedback, compared on real AlpacaEval outputs with exact win rates on held-out instructions. Save a run with{" "}
        <code>rlxf lab run ANNOTATIONS --save NAME</code> or a grid with <code>rlxf lab sweep … --save NAME</code>.
      </p>
      {canRun && <LabRunForm />}
      {loading && !data && <p role="status">Loading results…</p>}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {data && results.length === 0 && <p>No saved lab results in this project yet.</p>}
      {results.length > 0 && (
        <table aria-label="Saved lab results">
          <thead>
            <tr>
              <th scope="col">name</th>
              <th scope="col">kind</th>
              <th scope="col">feedback</th>
              <th scope="col">label noise p</th>
              <th scope="col">labels</th>
              <th scope="col">seeds</th>
              <th scope="col">methods</th>
              <th scope="col">best test win rate</th>
              <th scope="col">saved</th>
            </tr>
          </thead>
          <tbody>
            {results.map((r) => (
              <tr key={r.name}>
                <th scope="row">
                  <Link href={`/lab/${enc(r.name)}`}>{r.name}</Link>
                  {r.version > 1 && <span className="muted"> v{r.version}</span>}
                  {r.description && <div className="muted desc">{r.description}</div>}
                </th>
                <td>{r.type}</td>
                <td>{r.feedback}</td>
                <td>{r.pFlips.join(", ")}</td>
                <td>{r.labels.join(", ")}</td>
                <td>{r.seeds.join(", ")}</td>
                <td>{r.methods.length}</td>
                <td>{r.best ? `${f(r.best.winRate)}% (${r.best.method})` : "–"}</td>
                <td>{when(r.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

export function LabResult({ name, version }: { name: string; version?: number }) {
  const { data, error, loading } = useLoad(
    (signal) => request<Saved>(`/v1/lab/results/${enc(name)}${version ? `?version=${version}` : ""}`, { signal }),
    [name, version],
  );
  return (
    <section>
      <p>
        <Link href="/lab">← Lab results</Link>
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
            {data.type === "run" ? "Run" : "Sweep"} saved {when(data.createdAt)}
            {data.description ? ` · ${data.description}` : ""}
          </p>
          {data.versions.length > 1 && (
            <div className="row">
              <label htmlFor="lab-version">Version</label>
              <select id="lab-version" value={data.version} onChange={(e) => navigate(`/lab/${enc(name)}?version=${e.target.value}`)}>
                {data.versions.map((v) => (
                  <option key={v} value={v}>
                    {v}
                    {v === data.versions[0] ? " (latest)" : ""}
                  </option>
                ))}
              </select>
            </div>
          )}
          {data.result.type === "run" ? <RunView run={data.result.run} /> : <SweepView rows={data.result.rows} grid={data.result.grid} />}
        </>
      )}
    </section>
  );
}

function RunView({ run }: { run: RunResult }) {
  const initial = run.methods.find((m) => m.method === "initial");
  const trained = run.methods.filter((m) => m.method !== "initial");
  // best-of-n's curve is over n, the others' over training steps: separate plots.
  const stepped = trained.filter((m) => m.method !== "best-of-n" && m.curve.length > 0);
  const bon = trained.find((m) => m.method === "best-of-n" && m.curve.length > 0);
  const line = (pick: (c: CurvePoint) => number | undefined, ms: MethodResult[]): LineSeries[] =>
    ms
      .map((m) => ({ name: m.method, points: m.curve.filter((c) => pick(c) !== undefined).map((c) => ({ x: c.step, y: pick(c)! })) }))
      .filter((s) => s.points.length > 0);
  const withProxy = stepped.filter((m) => m.curve.some((c) => c.proxyReward !== undefined));
  const e = run.environment;
  const describe = (what: string, s: LineSeries[]) =>
    `${what} for ${s.length} method${s.length === 1 ? "" : "s"}: ${s.map((x) => `${x.name} ends at ${f(x.points[x.points.length - 1]?.y, 2)}`).join("; ")}.`;
  const winSeries = line((c) => c.winRate, stepped);
  return (
    <>
      <ul className="stats" aria-label="Run settings">
        <li>
          <span className="value">{run.feedback}</span>
          <span className="name">feedback{run.feedback !== "gold" ? ` (p-flip ${run.pFlip}${run.lengthBias ? `, length bias ${run.lengthBias}` : ""})` : ""}</span>
        </li>
        <li>
          <span className="value">{run.labels}</span>
          <span className="name">labels (seed {run.seed})</span>
        </li>
        <li>
          <span className="value">
            {e.train} / {e.test}
          </span>
          <span className="name">train / test instructions</span>
        </li>
        <li>
          <span className="value">{e.candidates}</span>
          <span className="name">candidates from {e.models} models + the reference</span>
        </li>
        {run.proxy && (
          <li>
            <span className="value">
              {run.proxy.accuracy && run.proxy.accuracy.seeds > 1
                ? `${f(100 * run.proxy.accuracy.mean)}% ± ${f(100 * run.proxy.accuracy.sd)}`
                : `${f(100 * run.proxy.testAccuracy)}%`}
            </span>
            <span className="name">
              proxy reward model's gold pairwise accuracy
              {run.proxy.accuracy && run.proxy.accuracy.seeds > 1 ? ` (mean ± sd over ${run.proxy.accuracy.seeds} seeds)` : " (one seed)"}
            </span>
          </li>
        )}
        <li>
          <span className="value">{f(run.seconds)} s</span>
          <span className="name">run time</span>
        </li>
      </ul>

      <h2>Final policies on the test instructions</h2>
      <IntervalPlot
        title="Test win rate against the reference (%)"
        description={`Exact expected win rate of each final policy; the dashed line is the initial (uniform) policy at ${f(initial?.winRate)}%. ${trained.map((m) => `${m.method}: ${f(m.winRate)}%`).join("; ")}`}
        rows={trained.map((m) => ({ label: m.method, value: m.winRate, lo: m.winRate, hi: m.winRate, note: m.lcWinRate !== undefined ? `LC ${f(m.lcWinRate)}` : undefined }))}
        xLabel="win rate against the reference (%)"
        {...(initial ? { reference: initial.winRate } : {})}
        domain={[0, 100]}
        digits={2}
      />
      <table aria-label="Method table">
        <thead>
          <tr>
            <th scope="col">method</th>
            <th scope="col" className="num">
              win rate
            </th>
            <th scope="col" className="num">
              LC win rate
            </th>
            <th scope="col" className="num">
              avg length
            </th>
            <th scope="col" className="num">
              KL
            </th>
            {run.proxy && (
              <th scope="col" className="num">
                proxy reward
              </th>
            )}
            <th scope="col" className="num">
              labels
            </th>
            <th scope="col" className="num">
              time (s)
            </th>
          </tr>
        </thead>
        <tbody>
          {run.methods.map((m) => (
            <tr key={m.method}>
              <th scope="row">{m.method}</th>
              <td className="num">{f(m.winRate, 2)}</td>
              <td className="num">{f(m.lcWinRate, 2)}</td>
              <td className="num">{f(m.length, 0)}</td>
              <td className="num">{f(m.kl, 3)}</td>
              {run.proxy && <td className="num">{f(m.proxyReward, 3)}</td>}
              <td className="num">{m.labels}</td>
              <td className="num">{f(m.seconds, 2)}</td>
            </tr>
          ))}
        </tbody>
      </table>

      {stepped.length > 0 && (
        <>
          <h2>Curves over training</h2>
          <div className="grid-plots">
            <LinePlot
              title="Gold win rate over training (%)"
              description={describe("Test win rate against the reference at each evaluated step", winSeries)}
              series={winSeries}
              xLabel="training step"
              yLabel="win rate (%)"
              {...(initial ? { reference: { y: initial.winRate, label: "initial" } } : {})}
            />
            <LinePlot
              title="KL to the reference policy (nats)"
              description={describe("KL divergence of the policy from the initial one", line((c) => c.kl, stepped))}
              series={line((c) => c.kl, stepped)}
              xLabel="training step"
              yLabel="KL (nats)"
              digits={3}
            />
            {withProxy.length > 0 && (
              <LinePlot
                title="Proxy reward over training"
                description={describe(
                  "Expected reward under the proxy reward model (trained on the annotator's labels); when it keeps rising while the gold win rate falls, the policy over-optimises the proxy",
                  line((c) => c.proxyReward, withProxy),
                )}
                series={line((c) => c.proxyReward, withProxy)}
                xLabel="training step"
                yLabel="proxy reward"
                digits={3}
              />
            )}
          </div>
        </>
      )}
      {bon && (
        <>
          <h2>Best-of-n</h2>
          <LinePlot
            title="Best-of-n: gold win rate against n (%)"
            description={`Win rate of picking the proxy's best of n samples: ${bon.curve.map((c) => `n=${c.step}: ${f(c.winRate)}%`).join(", ")}.`}
            series={[{ name: "best-of-n", points: bon.curve.map((c) => ({ x: c.step, y: c.winRate })) }]}
            xLabel="n (samples per instruction)"
            yLabel="win rate (%)"
            xScale="log2"
            {...(initial ? { reference: { y: initial.winRate, label: "initial" } } : {})}
          />
        </>
      )}
    </>
  );
}

interface Cell {
  method: string;
  pFlip: number;
  labels: number;
  n: number;
  mean: number;
  se: number;
}

function cellsOf(rows: SweepRow[]): Cell[] {
  const groups = new Map<string, SweepRow[]>();
  for (const r of rows) {
    const k = `${r.method}|${r.pFlip}|${r.labels}`;
    groups.set(k, [...(groups.get(k) ?? []), r]);
  }
  return [...groups.values()].map((g) => {
    const w = g.map((r) => r.winRate);
    const mean = w.reduce((s, x) => s + x, 0) / w.length;
    const sd = w.length > 1 ? Math.sqrt(w.reduce((s, x) => s + (x - mean) ** 2, 0) / (w.length - 1)) : 0;
    return { method: g[0]!.method, pFlip: g[0]!.pFlip, labels: g[0]!.labels, n: g.length, mean, se: sd / Math.sqrt(w.length) };
  });
}

function SweepView({ rows, grid }: { rows: SweepRow[]; grid: { methods: string[]; pFlips: number[]; labels: number[]; seeds: number[] } }) {
  const cells = cellsOf(rows);
  const methods = [...new Set(cells.map((c) => c.method))].filter((m) => m !== "initial");
  const initial = cells.find((c) => c.method === "initial");
  const pFlips = [...new Set(cells.map((c) => c.pFlip))].sort((a, b) => a - b);
  const budgets = [...new Set(cells.map((c) => c.labels))].sort((a, b) => a - b);
  const maxBudget = budgets[budgets.length - 1];
  const seeds = grid.seeds.length;
  const byNoise = (labels: number): LineSeries[] =>
    methods.map((m) => ({ name: m, points: cells.filter((c) => c.method === m && c.labels === labels).map((c) => ({ x: c.pFlip, y: c.mean })) }));
  const byBudget = (p: number): LineSeries[] =>
    methods.map((m) => ({ name: m, points: cells.filter((c) => c.method === m && c.pFlip === p).map((c) => ({ x: c.labels, y: c.mean })) }));
  const ref = initial ? { reference: { y: initial.mean, label: "initial" } } : {};
  return (
    <>
      <p>
        {methods.length} methods × label noise p ∈ {"{"}
        {pFlips.join(", ")}
        {"}"} × label budgets {"{"}
        {budgets.join(", ")}
        {"}"} × {seeds} seed{seeds === 1 ? "" : "s"}: {rows.length} rows. Win rates are means over seeds{seeds > 1 ? ", with ± one standard error" : ""}.
      </p>
      <div className="grid-plots">
        {pFlips.length > 1 && maxBudget !== undefined && (
          <LinePlot
            title={`Win rate against label noise, ${maxBudget} labels (%)`}
            description={`Mean test win rate of each method as the label-flip probability grows, with ${maxBudget} labels. ${byNoise(maxBudget)
              .map((s) => `${s.name}: ${s.points.map((p) => `${f(p.y)} at p=${p.x}`).join(", ")}`)
              .join("; ")}.`}
            series={byNoise(maxBudget)}
            xLabel="label-flip probability p"
            yLabel="win rate (%)"
            {...ref}
          />
        )}
        {budgets.length > 1 &&
          pFlips.map((p) => (
            <LinePlot
              key={p}
              title={`Win rate against label budget, p = ${p} (%)`}
              description={`Mean test win rate of each method by number of labels at noise p=${p}. ${byBudget(p)
                .map((s) => `${s.name}: ${s.points.map((q) => `${f(q.y)} with ${q.x}`).join(", ")}`)
                .join("; ")}.`}
              series={byBudget(p)}
              xLabel="labels"
              yLabel="win rate (%)"
              {...ref}
            />
          ))}
      </div>
      {pFlips.map((p) =>
        budgets.map((b) => {
          const here = cells.filter((c) => c.pFlip === p && c.labels === b && c.method !== "initial");
          return (
            <IntervalPlot
              key={`${p}-${b}`}
              title={`p = ${p}, ${b} labels: test win rate (%)`}
              description={`Mean over ${seeds} seed(s) with ± one standard error. ${here.map((c) => `${c.method}: ${f(c.mean)} ± ${f(c.se)}`).join("; ")}`}
              rows={here.map((c) => ({ label: c.method, value: c.mean, lo: c.mean - c.se, hi: c.mean + c.se, note: `${c.n} seed${c.n === 1 ? "" : "s"}` }))}
              xLabel="win rate against the reference (%)"
              {...(initial ? { reference: initial.mean } : {})}
              domain={[0, 100]}
              digits={2}
            />
          );
        }),
      )}
    </>
  );
}
