/** The project's picture: leaderboards as plots, distributions of ratings and of lengths, and export. */
import { useState } from "react";
import type { AlpacaEvalLeaderboardRow, BradleyTerryRow, Distributions } from "../../../src/api/index.js";
import { type Me, request } from "../api";
import { ExportPanel } from "../components/Export";
import { Histogram, IntervalPlot } from "../components/Plots";
import { useLoad } from "../hooks";
import { navigate, useLocation } from "../router";
import { dataOrJob } from "../jobs";

type BtRow = BradleyTerryRow;
type AeRow = AlpacaEvalLeaderboardRow;

function Leaderboards() {
  const [baseline, setBaseline] = useState("");
  const bt = useLoad((signal) => dataOrJob<{ rows: BtRow[] }>("/v1/leaderboard?method=bt&bootstrap=200&seed=0", signal), []);
  const ae = useLoad(
    (signal) => dataOrJob<{ baseline?: string; rows: AeRow[] }>(`/v1/leaderboard?method=alpaca-eval${baseline ? `&baseline=${encodeURIComponent(baseline)}` : ""}`, signal),
    [baseline],
  );
  const models = (bt.data?.rows ?? []).map((r) => r.model);
  const aeRows = (ae.data?.rows ?? []).filter((r) => r.n_total > 0);
  return (
    <section aria-labelledby="lb-title">
      <h2 id="lb-title">Leaderboard</h2>
      <div className="grid-plots">
        <div>
          <h3>Win rate against a baseline</h3>
          <div className="row">
            <label htmlFor="baseline">Baseline</label>
            <select id="baseline" value={baseline || ae.data?.baseline || ""} onChange={(e) => setBaseline(e.target.value)}>
              {!ae.data?.baseline && <option value="">(most compared)</option>}
              {models.map((m) => (
                <option key={m}>{m}</option>
              ))}
            </select>
          </div>
          {ae.error && <p className="error">{ae.error}</p>}
          {ae.data && aeRows.length === 0 && <p className="muted">No pairwise feedback against this baseline yet.</p>}
          {aeRows.length > 0 && (
            <IntervalPlot
              title={`Win rate against ${ae.data?.baseline ?? "the baseline"} (%)`}
              description={`Each model's win rate in percent with ± one standard error; 50% is parity. ${aeRows.map((r) => `${r.model}: ${r.win_rate.toFixed(1)} ± ${r.standard_error.toFixed(1)}`).join("; ")}`}
              rows={aeRows.map((r) => ({ label: r.model, value: r.win_rate, lo: r.win_rate - (r.standard_error || 0), hi: r.win_rate + (r.standard_error || 0), note: `n=${r.n_total}` }))}
              xLabel="win rate (%), bars: ± 1 standard error"
              reference={50}
              domain={[0, 100]}
              digits={1}
            />
          )}
        </div>
        <div>
          <h3>Bradley-Terry ratings</h3>
          {bt.error && <p className="error">{bt.error}</p>}
          {bt.data && bt.data.rows.length === 0 && <p className="muted">No comparisons yet.</p>}
          {bt.data && bt.data.rows.length > 0 && (
            <IntervalPlot
              title="Bradley-Terry rating with 95% bootstrap intervals"
              description={`Ratings from pairwise, ranking and rating feedback. ${bt.data.rows.map((r) => `${r.model}: ${r.rating.toFixed(0)} [${r.lower.toFixed(0)}, ${r.upper.toFixed(0)}]`).join("; ")}`}
              rows={bt.data.rows.map((r) => ({ label: r.model, value: r.rating, lo: r.lower, hi: r.upper, note: `${r.n_comparisons} comparisons` }))}
              xLabel="rating (bars: 95% interval)"
              digits={0}
            />
          )}
        </div>
      </div>
    </section>
  );
}

function DistributionPlots({ query }: { query: string }) {
  const { data, error, loading } = useLoad((signal) => request<Distributions>(`/v1/analysis/distributions${query ? `?${query}` : ""}`, { signal }), [query]);
  if (error)
    return (
      <p className="error" role="alert">
        {error}
      </p>
    );
  if (!data) return loading ? <p role="status">Loading distributions…</p> : null;
  const L = data.lengths;
  return (
    <div className="grid-plots">
      <div>
        <h3>Ratings</h3>
        {data.ratings.length === 0 && <p className="muted">No ratings yet.</p>}
        {data.ratings.map((r) => {
          const values: number[] = [];
          for (let v = r.scale.min; v <= r.scale.max && values.length < 101; v++) values.push(v);
          for (const h of r.histogram) if (!values.includes(h.value)) values.push(h.value);
          values.sort((a, b) => a - b);
          return (
            <Histogram
              key={`${r.name}-${r.scale.min}-${r.scale.max}`}
              title={`${r.name} (${r.scale.min}–${r.scale.max}): ${r.n} ratings, mean ${r.mean.toFixed(2)}`}
              description={`How often each score of ${r.name} was given: ${r.histogram.map((h) => `${h.value}: ${h.count}`).join(", ")}`}
              bins={values.map(String)}
              series={[{ name: "ratings", counts: values.map((v) => r.histogram.find((h) => h.value === v)?.count ?? 0) }]}
              xLabel="score"
            />
          );
        })}
      </div>
      <div>
        <h3>Lengths of preferred and rejected outputs</h3>
        {L.pairs === 0 ? (
          <p className="muted">No decided pairwise preferences yet{L.ties ? ` (${L.ties} ties)` : ""}.</p>
        ) : (
          <>
            <Histogram
              title={`Output length, preferred vs rejected (${L.pairs} pairs)`}
              description={`Preferred outputs: mean ${L.preferred.mean?.toFixed(0)} characters; rejected: mean ${L.rejected.mean?.toFixed(0)}.`}
              bins={L.bins.map((b) => `${b.from}–${b.to - 1}`)}
              series={[
                { name: "preferred", counts: L.bins.map((b) => b.preferred) },
                { name: "rejected", counts: L.bins.map((b) => b.rejected) },
              ]}
              xLabel={`length (${L.unit})`}
            />
            <p>
              Mean length: preferred {L.preferred.mean?.toFixed(0)}, rejected {L.rejected.mean?.toFixed(0)} (medians {L.preferred.median?.toFixed(0)} and {L.rejected.median?.toFixed(0)}).
              {L.longerPreferred !== null && <> The longer output was preferred in {Math.round(L.longerPreferred * 100)}% of pairs of different lengths.</>}
              {L.ties ? ` ${L.ties} ties left out.` : ""}
            </p>
          </>
        )}
      </div>
    </div>
  );
}

export function Dashboard(_: { me: Me }) {
  const url = useLocation();
  const dataset = url.searchParams.get("dataset") ?? "";
  const queueId = url.searchParams.get("queueId") ?? "";
  const sourceType = url.searchParams.get("sourceType") ?? "";
  const datasets = useLoad(async (signal) => {
    const r = await request<{ records: { dataset?: string }[] }>("/v1/items?limit=1000", { signal });
    return [...new Set(r.records.map((i) => i.dataset).filter((d): d is string => !!d))].sort();
  }, []);
  const queues = useLoad((signal) => request<{ queues: { id: string; name: string }[] }>("/v1/queues", { signal }), []);
  const setFilter = (k: string, v: string) => {
    const p = new URLSearchParams(url.search);
    if (v) p.set(k, v);
    else p.delete(k);
    navigate(`/dashboard${p.toString() ? `?${p}` : ""}`, true);
  };
  const query = new URLSearchParams({ ...(dataset ? { dataset } : {}), ...(queueId ? { queueId } : {}), ...(sourceType ? { sourceType } : {}) }).toString();
  return (
    <section>
      <h1>Dashboard</h1>
      <Leaderboards />
      <section aria-labelledby="dist-title">
        <h2 id="dist-title">Distributions</h2>
        <div className="row filters">
          <label htmlFor="f-dataset">Dataset</label>
          <select id="f-dataset" value={dataset} onChange={(e) => setFilter("dataset", e.target.value)}>
            <option value="">all</option>
            {(datasets.data ?? []).map((d) => (
              <option key={d}>{d}</option>
            ))}
          </select>
          <label htmlFor="f-queue">Queue</label>
          <select id="f-queue" value={queueId} onChange={(e) => setFilter("queueId", e.target.value)}>
            <option value="">any</option>
            {(queues.data?.queues ?? []).map((q) => (
              <option key={q.id} value={q.id}>
                {q.name}
              </option>
            ))}
          </select>
          <label htmlFor="f-source">Source</label>
          <select id="f-source" value={sourceType} onChange={(e) => setFilter("sourceType", e.target.value)}>
            <option value="">any</option>
            {["human", "judge", "critic", "verifier", "simulated", "user"].map((s) => (
              <option key={s}>{s}</option>
            ))}
          </select>
        </div>
        <DistributionPlots query={query} />
      </section>
      <ExportPanel filters={{ ...(dataset ? { dataset } : {}), ...(queueId ? { queueId } : {}), ...(sourceType ? { sourceType } : {}) }} />
    </section>
  );
}
