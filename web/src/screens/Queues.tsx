import { type Me, request } from "../api";
import { Link } from "../components/Link";
import { ProgressBar } from "../components/Progress";
import { useLoad } from "../hooks";
import type { Queue } from "../types";

export function Queues({ me }: { me: Me }) {
  const { data, error, loading } = useLoad((signal) => request<{ queues: Queue[] }>("/v1/queues", { signal }), []);
  const queues = data?.queues ?? [];
  const annotator = me.role === "annotate";
  const canAnnotate = me.role === "annotate" || me.role === "admin";
  return (
    <section>
      <div className="title-row">
        <h1>Annotation queues</h1>
        {me.role === "admin" && (
          <Link className="button" href="/queues/new">
            New queue
          </Link>
        )}
      </div>
      {loading && !data && <p role="status">Loading queues…</p>}
      {error && (
        <p className="error" role="alert">
          {error}
        </p>
      )}
      {data && queues.length === 0 && (
        <p>{me.role === "admin" ? "No queues yet. Create one from the stored items and generations." : "No queues in this project yet."}</p>
      )}
      {queues.length > 0 && (
        <ul className="cards" aria-label="Queues">
          {queues.map((q) => (
            <li key={q.id} className="card">
              <h2>
                {annotator ? <Link href={`/queues/${encodeURIComponent(q.id)}/annotate`}>{q.name}</Link> : <Link href={`/queues/${encodeURIComponent(q.id)}`}>{q.name}</Link>}
              </h2>
              <p className="muted">
                {q.selection?.mode === "pairs" ? "pairs of outputs" : q.selection?.mode === "lists" ? "all outputs of an item" : "single outputs"} · {q.questions.map((x) => x.kind).join(", ")} · {q.annotatorsPerItem ?? 1} annotator
                {(q.annotatorsPerItem ?? 1) > 1 ? "s" : ""} per task
              </p>
              {q.progress && <ProgressBar progress={q.progress} label={`Progress of ${q.name}`} />}
              {q.mine && (
                <p className="muted">
                  You: {q.mine.submitted} submitted · {q.mine.skipped} skipped{q.mine.holding ? " · 1 task held for you" : ""}
                </p>
              )}
              <p className="actions">
                {canAnnotate && (
                  <Link className={annotator ? "button" : "button secondary"} href={`/queues/${encodeURIComponent(q.id)}/annotate`}>
                    {annotator ? "Start annotating" : "Annotate"}
                  </Link>
                )}
                {!annotator && <Link href={`/queues/${encodeURIComponent(q.id)}`}>Progress and agreement</Link>}
              </p>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
