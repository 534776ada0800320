/** Background jobs as the web app sees them (`/v1/jobs`), and following one until it ends. */
import type { Job, JobDetail, JobState } from "../../src/api/index.js";
import { enc, request, sleep } from "./api";

export type { Job, JobDetail, JobState };

export const isFinished = (s: JobState) => s === "succeeded" || s === "failed" || s === "cancelled";

export async function submitJob(kind: string, input: unknown): Promise<Job> {
  return (await request<{ job: Job }>("/v1/jobs", { body: { kind, input } })).job;
}

export async function getJob(id: string, signal?: AbortSignal): Promise<JobDetail> {
  return (await request<{ job: JobDetail }>(`/v1/jobs/${enc(id)}`, signal ? { signal } : {})).job;
}

/** Poll a job (more slowly as it runs on) until it ends; `onUpdate` sees every state. */
export async function followJob(id: string, onUpdate: (j: JobDetail) => void, signal?: AbortSignal): Promise<JobDetail> {
  for (let delay = 300; ; delay = Math.min(delay * 1.3, 2000)) {
    const j = await getJob(id, signal);
    onUpdate(j);
    if (isFinished(j.state)) return j;
    await sleep(delay);
    if (signal?.aborted) throw new DOMException("aborted", "AbortError");
  }
}

/**
 * A request that answers at once with data or, for bigger work, 202 with a job (the leaderboard): the
 * data either way, following the job when there is one.
 */
export async function dataOrJob<T>(path: string, signal?: AbortSignal): Promise<T> {
  const r = await request<T | { job: Job }>(path, signal ? { signal } : {});
  if (r && typeof r === "object" && "job" in r && (r as { job: Job }).job?.id) {
    const done = await followJob((r as { job: Job }).job.id, () => {}, signal);
    if (done.state !== "succeeded") throw new Error(`the job computing this ${done.state}: ${done.error ?? ""}`);
    return done.result as T;
  }
  return r as T;
}
