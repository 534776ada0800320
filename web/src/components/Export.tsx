/** An export as a background job: progress as it runs, cancel, and the file offered when it is ready. */
import { useEffect, useRef, useState } from "react";
import { ApiError, enc, errorText, getKey, request } from "../api";
import { type JobDetail, followJob, submitJob } from "../jobs";
import { Link } from "./Link";

const FORMATS = [
  ["rlxf", "rlxf JSONL (every record)"],
  ["trl-preference", "TRL preference pairs"],
  ["trl-unpaired", "TRL unpaired (KTO/BCO)"],
  ["openai-dpo", "OpenAI DPO"],
  ["alpaca-eval", "AlpacaEval annotations"],
] as const;

export function ExportPanel({ filters, title = "Export" }: { filters?: Record<string, unknown>; title?: string }) {
  const [format, setFormat] = useState<string>("rlxf");
  const [job, setJob] = useState<JobDetail>();
  const [error, setError] = useState<string>();
  const [file, setFile] = useState<{ url: string; name: string }>();
  const alive = useRef(new AbortController());
  useEffect(() => () => alive.current.abort(), []);
  useEffect(() => () => file && URL.revokeObjectURL(file.url), [file]);

  const start = async () => {
    setError(undefined);
    setFile(undefined);
    try {
      const submitted = await submitJob("export", { format, ...(filters && Object.keys(filters).length ? { filters } : {}) });
      setJob({ ...submitted, failures: [], unitFailures: [] });
      const j = await followJob(submitted.id, (u) => !alive.current.signal.aborted && setJob(u), alive.current.signal);
      if (j.state === "succeeded") {
        // The file needs the key, so it is fetched here and handed to the browser as a download.
        const res = await fetch(`/v1/jobs/${enc(j.id)}/file`, { headers: { Authorization: `Bearer ${getKey() ?? ""}` } });
        if (!res.ok) throw new ApiError(res.status, "http_error", `the file could not be fetched (${res.status})`);
        const name = (j.result as { file?: string } | undefined)?.file ?? `export-${j.id}.jsonl`;
        const blob = await res.blob();
        if (!alive.current.signal.aborted) setFile({ url: URL.createObjectURL(blob), name });
      }
    } catch (e) {
      if ((e as Error).name !== "AbortError") setError(errorText(e));
    }
  };

  const cancel = async () => {
    if (!job) return;
    try {
      await request(`/v1/jobs/${enc(job.id)}/cancel`, { method: "POST" });
    } catch (e) {
      setError(errorText(e));
    }
  };

  const running = job !== undefined && (job.state === "queued" || job.state === "running");
  const rows = job ? (job.state === "succeeded" ? ((job.result as { rows?: number } | undefined)?.rows ?? job.progress.done) : job.progress.done) : 0;
  return (
    <section className="export" aria-labelledby="export-title">
      <h2 id="export-title">{title}</h2>
      <div className="row">
        <label htmlFor="export-format">Format</label>
        <select id="export-format" value={format} onChange={(e) => setFormat(e.target.value)}>
          {FORMATS.map(([f, label]) => (
            <option key={f} value={f}>
              {label}
            </option>
          ))}
        </select>
        <button type="button" onClick={() => void start()} disabled={running}>
          {running ? "Exporting…" : "Start export"}
        </button>
        {running && (
          <button type="button" onClick={() => void cancel()} disabled={job?.cancelRequested}>
            Cancel
          </button>
        )}
      </div>
      <p role="status" aria-live="polite" data-testid="export-status">
        {running && `Running in the background (${rows} rows so far)… you can keep working.`}
        {job?.state === "succeeded" && !file && `Done: ${rows} rows; fetching the file…`}
        {job?.state === "failed" && `The export failed: ${job.error ?? "unknown error"}`}
        {job?.state === "cancelled" && "The export was cancelled."}
        {job && (
          <>
            {" "}
            <Link href={`/jobs/${enc(job.id)}`}>See the job</Link>
          </>
        )}
      </p>
      {file && job && (
        <p>
          <a className="button" href={file.url} download={file.name} data-testid="export-download">
            Download {file.name} ({rows} rows)
          </a>
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
