/** An export that runs on the server in the background; the file is offered when it is ready. */
import { useEffect, useRef, useState } from "react";
import type { ExportJob } from "../../../src/api/index.js";
import { ApiError, enc, errorText, getKey, request, sleep } from "../api";

const FORMATS = [
  ["rlxf", "rlxf JSONL (every record)"],
  ["trl-preference", "TRL preference pairs"],
  ["trl-unpaired", "TRL unpaired (KTO/BCO)"],
  ["openai-dpo", "OpenAI DPO"],
  ["alpaca-eval", "AlpacaEval annotations"],
] as const;

type Job = ExportJob;

export function ExportPanel({ filters, title = "Export" }: { filters?: Record<string, unknown>; title?: string }) {
  const [format, setFormat] = useState<string>("rlxf");
  const [job, setJob] = useState<Job>();
  const [error, setError] = useState<string>();
  const [file, setFile] = useState<{ url: string; name: string }>();
  const alive = useRef(true);
  useEffect(
    () => () => {
      alive.current = false;
    },
    [],
  );
  useEffect(() => () => file && URL.revokeObjectURL(file.url), [file]);

  const start = async () => {
    setError(undefined);
    setFile(undefined);
    try {
      let j = await request<Job>("/v1/exports", { body: { format, ...(filters && Object.keys(filters).length ? { filters } : {}) } });
      setJob(j);
      for (let delay = 300; j.status === "running" && alive.current; delay = Math.min(delay * 1.5, 3000)) {
        await sleep(delay);
        j = await request<Job>(`/v1/exports/${enc(j.id)}`);
        if (alive.current) setJob(j);
      }
      if (j.status === "done") {
        // The file needs the key, so it is fetched here and handed to the browser as a download.
        const res = await fetch(`/v1/exports/${enc(j.id)}/file`, { headers: { Authorization: `Bearer ${getKey() ?? ""}` } });
        if (!res.ok) throw new ApiError(res.status, "http_error", `the file could not be fetched (${res.status})`);
        const disp = res.headers.get("Content-Disposition") ?? "";
        const name = /filename="([^"]+)"/.exec(disp)?.[1] ?? `export-${j.id}.jsonl`;
        const blob = await res.blob();
        if (alive.current) setFile({ url: URL.createObjectURL(blob), name });
      }
    } catch (e) {
      setError(errorText(e));
    }
  };

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
        <button type="button" onClick={() => void start()} disabled={job?.status === "running"}>
          {job?.status === "running" ? "Exporting…" : "Start export"}
        </button>
      </div>
      <p role="status" aria-live="polite" data-testid="export-status">
        {job?.status === "running" && `Running in the background (${job.rows} rows so far)… you can keep working.`}
        {job?.status === "done" && !file && `Done: ${job.rows} rows; fetching the file…`}
        {job?.status === "failed" && `The export failed: ${job.error ?? "unknown error"}`}
      </p>
      {file && job && (
        <p>
          <a className="button" href={file.url} download={file.name} data-testid="export-download">
            Download {file.name} ({job.rows} rows)
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
