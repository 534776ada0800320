/**
 * Background jobs: the project's jobs with their progress (refreshed while any runs), and one job with its
 * result, the error of every failed attempt, the units that failed, and cancel / retry.
 */
import { useEffect, useState } from "react";
import { ApiError, enc, errorText, getKey, request } from "../api";
import { Link } from "../components/Link";
import { Histogram } from "../components/Plots";
import { useLoad } from "../hooks";
import { type Job, type JobDetail, type JobState, getJob, isFinished } from "../jobs";

const when = (iso?: string) => (iso ? new Date(iso).toLocaleString() : "–");
const STATES: JobState[] = ["queued", "running", "succeeded", "failed", "cancelled"];

export function JobProgress({ job }: { job: Job }) {
  const { done, total, failed, note } = job.progress;
  const known = total !== null && total > 0;
  const pct = known ? Math.round((100 * Math.min(done, total)) / total) : job.state === "succeeded" ? 100 : 0;
  return (
    <div className="progress">
      <div
        className="progress-track"
        role="progressbar"
        aria-label={`progress of ${job.kind} job ${job.id.slice(0, 8)}`}
        aria-valuemin={0}
        aria-valuemax={known ? total : 100}
        aria-valuenow={known ? Math.min(done, total) : pct}
        aria-valuetext={known ? `${done} of ${total} (${pct}%)` : `${done} done`}
      >
        <div className={`progress-fill${failed ? " with-failures" : ""}`} style={{ width: `${pct}%` }} />
      </div>
      <span className="progress-text">
        {known ? `${done}/${total}` : `${done}`} done{failed ? ` · ${failed} failed` : ""}
        {note ? ` · ${note}` : ""}
      </span>
    </div>
  );
}

function StateBadge({ job }: { job: Job }) {
  const label = job.cancelRequested && !isFinished(job.state) ? "cancelling" : job.state;
  return <span className={`badge state-${job.state}`}>{label}</span>;
}

/** Re-runs `reload` every `ms` while `active`. */
function usePoll(active: boolean, reload: () => void, ms = 1000): void {
  useEffect(() => {
    if (!active) return;
    const t = setInterval(reload, ms);
    return () => clearInterval(t);
  }, [active, reload, ms]);
}

export function JobList() {
  const [state, setState] = useState<string>("");
  const [kind, setKind] = useState<string>("");
  const q = new URLSearchParams({ limit: "100", ...(state ? { state } : {}), ...(kind ? { kind } : {}) }).toString();
  const { data, error, loading, reload } = useLoad((signal) => request<{ jobs: Job[] }>(`/v1/jobs?${q}`, { signal }), [q]);
  const jobs = data?.jobs ?? [];
  usePoll(jobs.some((j) => !isFinished(j.state)), reload);
  return (
    <section>
      <h1>Jobs</h1>
      <p className="muted">
        Heavy work runs in the background: judging, verifying, rewards for big batches, leaderboards with many bootstrap rounds, exports,
        reward-model training, the lab and loops. Start them here, from the API (<code>POST /v1/jobs</code>) or with <code>--submit</code> on
        the command line.
      </p>
      <div className="row">
        <label htmlFor="jobs-state">State</label>
        <select id="jobs-state" value={state} onChange={(e) => setState(e.target.value)}>
          <option value="">any</option>
          {STATES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
        <label htmlFor="jobs-kind">Kind</label>
        <select id="jobs-kind" value={kind} onChange={(e) => setKind(e.target.value)}>
          <option value="">any</option>
          {["judge", "verify", "reward", "leaderboard", "export", "rm-train", "lab-run", "lab-sweep", "loop", "queue", "rules"].map((k) => (
            <option key={k} value={k}>
              {k}
            </option>
          ))}
        </select>
      </div>
      {loading && !data && <p role="status">Loading jobs…</p>}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {data && jobs.length === 0 && <p>No jobs{state || kind ? " like that" : " in this project yet"}.</p>}
      {jobs.length > 0 && (
        <table aria-label="Jobs">
          <thead>
            <tr>
              <th scope="col">job</th>
              <th scope="col">kind</th>
              <th scope="col">state</th>
              <th scope="col">progress</th>
              <th scope="col">started</th>
            </tr>
          </thead>
          <tbody>
            {jobs.map((j) => (
              <tr key={j.id} data-testid={`job-${j.id}`}>
                <td>
                  <Link href={`/jobs/${enc(j.id)}`}>{j.id.slice(0, 8)}</Link>
                </td>
                <td>{j.kind}</td>
                <td>
                  <StateBadge job={j} />
                </td>
                <td className="wide">
                  <JobProgress job={j} />
                </td>
                <td>{when(j.startedAt ?? j.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </section>
  );
}

function Result({ job }: { job: JobDetail }) {
  const [error, setError] = useState<string>();
  const r = job.result as { file?: string; rows?: number; saved?: { name: string; version: number }; runId?: string; outcomes?: Record<string, number> } | undefined;
  if (r === undefined) return null;
  const outcomes = r.outcomes ? Object.entries(r.outcomes).sort((a, b) => b[1] - a[1]) : [];
  const download = async () => {
    setError(undefined);
    try {
      const res = await fetch(`/v1/jobs/${enc(job.id)}/file`, { headers: { Authorization: `Bearer ${getKey() ?? ""}` } });
      if (!res.ok) throw new ApiError(res.status, "http_error", `the file could not be fetched (${res.status})`);
      const url = URL.createObjectURL(await res.blob());
      const a = document.createElement("a");
      a.href = url;
      a.download = r.file ?? `${job.id}.jsonl`;
      a.click();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (e) {
      setError(errorText(e));
    }
  };
  return (
    <section aria-labelledby="job-result">
      <h2 id="job-result">Result</h2>
      {r.file && job.state === "succeeded" && (
        <p>
          <button type="button" onClick={() => void download()}>
            Download {r.file}
            {r.rows !== undefined ? ` (${r.rows} rows)` : ""}
          </button>
        </p>
      )}
      {r.saved && (
        <p>
          Saved as <Link href={`/lab/${enc(r.saved.name)}?version=${r.saved.version}`}>{`${r.saved.name}@${r.saved.version}`}</Link>.
        </p>
      )}
      {outcomes.length > 0 && (
        <Histogram
          title="Units by outcome"
          description={outcomes.map(([k, n]) => `${k}: ${n}`).join(", ")}
          bins={outcomes.map(([k]) => k)}
          series={[{ name: "units", counts: outcomes.map(([, n]) => n) }]}
          xLabel="outcome"
        />
      )}
      {r.runId && (
        <p>
          Loop run <Link href={`/loops/${enc(r.runId)}`}>{r.runId}</Link>.
        </p>
      )}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      <details>
        <summary>As JSON</summary>
        <pre className="json">{JSON.stringify(job.result, null, 2).slice(0, 20_000)}</pre>
      </details>
    </section>
  );
}

export function JobView({ id, canControl }: { id: string; canControl: boolean }) {
  const { data, error, loading, reload } = useLoad((signal) => getJob(id, signal), [id]);
  const [acting, setActing] = useState<string>();
  const [actionError, setActionError] = useState<string>();
  usePoll(!!data && (!isFinished(data.state) || acting !== undefined), reload);
  const act = async (what: "cancel" | "retry") => {
    setActing(what);
    setActionError(undefined);
    try {
      await request(`/v1/jobs/${enc(id)}/${what}`, { method: "POST" });
      reload();
    } catch (e) {
      setActionError(errorText(e));
    } finally {
      setActing(undefined);
    }
  };
  if (loading && !data) return <p role="status">Loading the job…</p>;
  if (error || !data)
    return (
      <p className="error" role="alert">
        {error ?? "not found"}
      </p>
    );
  const j = data;
  const retryable = isFinished(j.state) && (j.state !== "succeeded" || j.progress.failed > 0);
  return (
    <section>
      <p>
        <Link href="/jobs">← All jobs</Link>
      </p>
      <h1>
        {j.kind} job <code>{j.id.slice(0, 8)}</code> <StateBadge job={j} />
      </h1>
      <JobProgress job={j} />
      <p className="muted" data-testid="job-summary">
        {j.tasks.done}/{j.tasks.total} tasks done{j.tasks.failed ? `, ${j.tasks.failed} failed` : ""} · {j.attempts} attempt(s), at most {j.maxAttempts} per task · created{" "}
        {when(j.createdAt)}
        {j.finishedAt ? ` · finished ${when(j.finishedAt)}` : ""}
      </p>
      {j.error && (
        <p className="error" data-testid="job-error">
          {j.error}
        </p>
      )}
      {canControl && (
        <div className="row">
          {!isFinished(j.state) && (
            <button type="button" onClick={() => void act("cancel")} disabled={acting !== undefined || j.cancelRequested}>
              {j.cancelRequested ? "Cancelling…" : "Cancel"}
            </button>
          )}
          {retryable && (
            <button type="button" onClick={() => void act("retry")} disabled={acting !== undefined}>
              {j.state === "succeeded" ? `Retry the ${j.progress.failed} failed` : "Retry"}
            </button>
          )}
        </div>
      )}
      {actionError && (
        <p className="error" role="alert">
          {actionError}
        </p>
      )}
      <Result job={j} />
      {j.failures.length > 0 && (
        <section aria-labelledby="job-failures">
          <h2 id="job-failures">Failed attempts</h2>
          <table aria-label="Failed attempts">
            <thead>
              <tr>
                <th scope="col">task</th>
                <th scope="col">attempt</th>
                <th scope="col">when</th>
                <th scope="col">error</th>
              </tr>
            </thead>
            <tbody>
              {j.failures.map((f) => (
                <tr key={`${f.task}-${f.attempt}`}>
                  <td>{f.task}</td>
                  <td>{f.attempt}</td>
                  <td>{when(f.at)}</td>
                  <td className="wide">{f.error}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
      {j.unitFailures.length > 0 && (
        <section aria-labelledby="unit-failures">
          <h2 id="unit-failures">Failed units ({j.progress.failed})</h2>
          <table aria-label="Failed units">
            <thead>
              <tr>
                <th scope="col">unit</th>
                <th scope="col">error</th>
              </tr>
            </thead>
            <tbody>
              {j.unitFailures.map((u) => (
                <tr key={u.unit}>
                  <td>{u.unit}</td>
                  <td className="wide">{u.error}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </section>
      )}
      <details>
        <summary>Input</summary>
        <pre className="json">{JSON.stringify(j.input, null, 2).slice(0, 20_000)}</pre>
      </details>
    </section>
  );
}
