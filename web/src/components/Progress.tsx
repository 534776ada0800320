import type { Progress } from "../types";

export function ProgressBar({ progress, label }: { progress: Progress; label: string }) {
  const needed = Math.max(progress.needed, 1);
  const pct = Math.round((100 * Math.min(progress.submitted, needed)) / needed);
  return (
    <div className="progress">
      <div
        className="progress-track"
        role="progressbar"
        aria-label={label}
        aria-valuemin={0}
        aria-valuemax={progress.needed}
        aria-valuenow={Math.min(progress.submitted, progress.needed)}
        aria-valuetext={`${progress.submitted} of ${progress.needed} annotations (${pct}%)`}
      >
        <div className="progress-fill" style={{ width: `${pct}%` }} />
      </div>
      <span className="progress-text">
        {progress.done}/{progress.tasks} tasks done · {progress.submitted}/{progress.needed} annotations
        {progress.inProgress ? ` · ${progress.inProgress} in progress` : ""}
        {progress.skipped ? ` · ${progress.skipped} skipped` : ""}
      </span>
    </div>
  );
}
