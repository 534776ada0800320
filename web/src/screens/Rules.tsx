/**
 * Judges on live traffic: the project's rules with what each runs, its filter and sampling, and its counts
 * (matched, evaluated, failed, pending: the backlog), as a table and as bars, refreshed while a backlog
 * remains; admins add rules and disable or enable them.
 */
import { type FormEvent, useEffect, useState } from "react";
import type { Rule } from "../../../src/api/index.js";
import { enc, errorText, request } from "../api";
import { GroupedBars } from "../components/Plots";
import { useLoad } from "../hooks";

const runs = (r: Rule) => (r.judge !== undefined ? `judge ${typeof r.judge === "string" ? r.judge : String((r.judge as { name?: unknown }).name ?? "config")}` : `verifier ${r.verifier}`);

function filterText(r: Rule): string {
  const parts = [
    ...(r.filter.dataset !== undefined ? [`dataset ${r.filter.dataset}`] : []),
    ...(r.filter.policy !== undefined ? [`policy ${r.filter.policy}`] : []),
    ...Object.entries(r.filter.metadata ?? {}).map(([k, v]) => `${k}=${v}`),
  ];
  return parts.length ? parts.join(", ") : "every generation";
}

function NewRule({ onMade }: { onMade: () => void }) {
  const [name, setName] = useState("");
  const [what, setWhat] = useState<"judge" | "verifier">("judge");
  const [runsWhat, setRunsWhat] = useState("critique");
  const [policy, setPolicy] = useState("");
  const [rate, setRate] = useState("1");
  const [perHour, setPerHour] = useState("");
  const [baseUrl, setBaseUrl] = useState("");
  const [model, setModel] = useState("");
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(undefined);
    setBusy(true);
    try {
      await request("/v1/rules", {
        body: {
          name,
          [what]: runsWhat,
          ...(policy ? { filter: { policy } } : {}),
          sampleRate: Number(rate),
          ...(perHour ? { maxPerHour: Number(perHour) } : {}),
          ...(baseUrl || model ? { model: { ...(baseUrl ? { baseUrl } : {}), ...(model ? { model } : {}) } } : {}),
        },
      });
      setName("");
      onMade();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  return (
    <form onSubmit={submit} aria-label="New rule" className="stack">
      <h2>New rule</h2>
      <div className="row">
        <label htmlFor="rule-name">Name</label>
        <input id="rule-name" value={name} onChange={(e) => setName(e.target.value)} required maxLength={200} />
        <label htmlFor="rule-what">Runs</label>
        <select id="rule-what" value={what} onChange={(e) => setWhat(e.target.value as "judge" | "verifier")}>
          <option value="judge">a judge</option>
          <option value="verifier">a reward spec</option>
        </select>
        <label htmlFor="rule-runs">{what === "judge" ? "Judge" : "Reward spec"}</label>
        <input id="rule-runs" value={runsWhat} onChange={(e) => setRunsWhat(e.target.value)} required />
      </div>
      <div className="row">
        <label htmlFor="rule-policy">Policy</label>
        <input id="rule-policy" value={policy} onChange={(e) => setPolicy(e.target.value)} placeholder="any" />
        <label htmlFor="rule-rate">Sample rate</label>
        <input id="rule-rate" type="number" min={0} max={1} step={0.01} value={rate} onChange={(e) => setRate(e.target.value)} />
        <label htmlFor="rule-hour">Per hour at most</label>
        <input id="rule-hour" type="number" min={1} value={perHour} onChange={(e) => setPerHour(e.target.value)} placeholder="1000" />
      </div>
      <div className="row">
        <label htmlFor="rule-base">Judge endpoint</label>
        <input id="rule-base" value={baseUrl} onChange={(e) => setBaseUrl(e.target.value)} placeholder="the workers' default" />
        <label htmlFor="rule-model">Model</label>
        <input id="rule-model" value={model} onChange={(e) => setModel(e.target.value)} placeholder="the workers' default" />
        <button type="submit" disabled={busy}>
          Add rule
        </button>
      </div>
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
    </form>
  );
}

export function RuleList({ canManage }: { canManage: boolean }) {
  const { data, error, loading, reload } = useLoad((signal) => request<{ rules: Rule[] }>("/v1/rules", { signal }), []);
  const [actionError, setActionError] = useState<string>();
  const rules = data?.rules ?? [];
  const backlog = rules.some((r) => r.enabled && r.counts.pending > 0);
  useEffect(() => {
    if (!backlog) return;
    const t = setInterval(reload, 2000);
    return () => clearInterval(t);
  }, [backlog, reload]);
  const toggle = async (r: Rule) => {
    setActionError(undefined);
    try {
      await request(`/v1/rules/${enc(r.id)}`, { method: "PATCH", body: { enabled: !r.enabled } });
      reload();
    } catch (e) {
      setActionError(errorText(e));
    }
  };
  return (
    <section>
      <h1>Rules</h1>
      <p className="muted">
        Judges on live traffic: each rule runs a judge or a reward spec on every new generation (or new pair, for a pairwise judge) that matches its
        filter, on a sample decided by each generation's id, at most so many an hour; the verdicts are stored as feedback. Pending is the backlog.
      </p>
      {loading && !data && <p role="status">Loading rules…</p>}
      {(error || actionError) && (
        <p className="error" role="alert">
          {error ?? actionError}
        </p>
      )}
      {data && rules.length === 0 && <p>No rules in this project yet.</p>}
      {rules.length > 0 && (
        <>
          <table aria-label="Rules">
            <thead>
              <tr>
                <th scope="col">rule</th>
                <th scope="col">runs</th>
                <th scope="col">filter</th>
                <th scope="col">sample</th>
                <th scope="col">per hour</th>
                <th scope="col">matched</th>
                <th scope="col">evaluated</th>
                <th scope="col">failed</th>
                <th scope="col">pending</th>
                <th scope="col">state</th>
              </tr>
            </thead>
            <tbody>
              {rules.map((r) => (
                <tr key={r.id} data-testid={`rule-${r.id}`}>
                  <td title={r.id}>{r.name}</td>
                  <td>{runs(r)}</td>
                  <td>{filterText(r)}</td>
                  <td>{r.sampleRate}</td>
                  <td>{r.maxPerHour}</td>
                  <td>{r.counts.matched}</td>
                  <td>{r.counts.evaluated}</td>
                  <td>{r.counts.failed}</td>
                  <td>{r.counts.pending}</td>
                  <td>
                    <span className={`badge ${r.enabled ? "state-running" : "state-cancelled"}`}>{r.enabled ? "enabled" : "disabled"}</span>
                    {canManage && (
                      <button type="button" className="link-button" onClick={() => void toggle(r)} aria-label={`${r.enabled ? "Disable" : "Enable"} ${r.name}`}>
                        {r.enabled ? "Disable" : "Enable"}
                      </button>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <GroupedBars
            title="Evaluations by rule"
            description={rules.map((r) => `${r.name}: ${r.counts.evaluated} evaluated, ${r.counts.failed} failed, ${r.counts.pending} pending`).join("; ")}
            categories={rules.map((r, i) => (rules.findIndex((o) => o.name === r.name) === i ? r.name : `${r.name} (${r.id.slice(5, 11)})`))}
            series={[
              { name: "evaluated", values: rules.map((r) => r.counts.evaluated) },
              { name: "failed", values: rules.map((r) => r.counts.failed) },
              { name: "pending", values: rules.map((r) => r.counts.pending) },
            ]}
            xLabel="rule"
            yLabel="evaluations"
            digits={0}
          />
        </>
      )}
      {canManage && <NewRule onMade={reload} />}
    </section>
  );
}
