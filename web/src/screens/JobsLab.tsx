/** Starting a lab run from the web app: a `lab-run` job on the workers, followed on the Jobs page. */
import { useState } from "react";
import { enc, errorText } from "../api";
import { Link } from "../components/Link";
import { type Job, submitJob } from "../jobs";

const FEEDBACK = ["simulated", "gold", "rm"] as const;

export function LabRunForm() {
  const [paths, setPaths] = useState("annotations");
  const [methods, setMethods] = useState("best-of-n,dpo,ppo");
  const [feedback, setFeedback] = useState<string>("simulated");
  const [labels, setLabels] = useState("1000");
  const [seed, setSeed] = useState("0");
  const [save, setSave] = useState("");
  const [job, setJob] = useState<Job>();
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  const start = async (e: React.FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(undefined);
    try {
      const input = {
        paths: paths.split(",").map((p) => p.trim()).filter(Boolean),
        methods,
        feedback,
        labels: Number(labels),
        seed: Number(seed),
        ...(save.trim() ? { save: save.trim() } : {}),
      };
      setJob(await submitJob("lab-run", input));
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <section aria-labelledby="lab-run-title" className="panel">
      <h2 id="lab-run-title">Start a lab run</h2>
      <p className="muted">
        Runs as a background job on the workers. Annotation files are named inside the workers' lab data directory (<code>RLXF_LAB_DATA</code>).
      </p>
      <form onSubmit={(e) => void start(e)} className="grid-form">
        <label htmlFor="lab-paths">Annotations</label>
        <input id="lab-paths" value={paths} onChange={(e) => setPaths(e.target.value)} required />
        <label htmlFor="lab-methods">Methods</label>
        <input id="lab-methods" value={methods} onChange={(e) => setMethods(e.target.value)} required />
        <label htmlFor="lab-feedback">Feedback</label>
        <select id="lab-feedback" value={feedback} onChange={(e) => setFeedback(e.target.value)}>
          {FEEDBACK.map((f) => (
            <option key={f} value={f}>
              {f}
            </option>
          ))}
        </select>
        <label htmlFor="lab-labels">Labels</label>
        <input id="lab-labels" type="number" min={1} value={labels} onChange={(e) => setLabels(e.target.value)} />
        <label htmlFor="lab-seed">Seed</label>
        <input id="lab-seed" type="number" min={0} value={seed} onChange={(e) => setSeed(e.target.value)} />
        <label htmlFor="lab-save">Save as</label>
        <input id="lab-save" value={save} onChange={(e) => setSave(e.target.value)} placeholder="a name (optional)" />
        <span />
        <button type="submit" disabled={busy}>
          {busy ? "Starting…" : "Start the run"}
        </button>
      </form>
      {job && (
        <p role="status">
          Started: follow <Link href={`/jobs/${enc(job.id)}`}>job {job.id.slice(0, 8)}</Link> on the Jobs page.
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
