/** The client: typed methods for every endpoint, over a retrying transport and the feedback queue. */
import type {
  ApiKey,
  AssignResult,
  CreateRuleBody,
  PatchRuleBody,
  Rule,
  Assignment,
  CreatedKey,
  DeletedQueue,
  Distributions,
  ExportFormat,
  ExportJob,
  Feedback,
  Generation,
  Health,
  Item,
  Job,
  JobDetail,
  JobKindName as JobKind,
  JobState,
  JobUnit,
  LabResult,
  LabResultSummary,
  Leaderboard,
  LoopRun,
  LoopRunReport,
  MyTaskList,
  Page,
  QueueStats,
  QueueTaskList,
  Released,
  RewardResult,
  RewardSpec,
  Role,
  SearchPage,
  SourceType,
  SubmitResult,
  SuggestionSource,
  TaskAnswers,
  UnassignResult,
  WriteResult,
} from "../api/index.js";
import { RlxfError } from "../errors.js";
import { RlxfApiError } from "./errors.js";
import { FeedbackQueue } from "./feedback-queue.js";
import { type Query, Transport, env, sleep, uuid } from "./transport.js";
import type {
  ClientStats,
  CriticEvalResult,
  CriticEvalSummary,
  FeedbackFilter,
  GenerationFilter,
  ItemFilter,
  LabResultBody,
  LeaderboardOptions,
  NewFeedback,
  NewGeneration,
  NewItem,
  Queue,
  QueueDefinition,
  QueueTask,
  RewardSample,
  RlxfOptions,
  RouteQueueOptions,
  SearchItemsOptions,
  SavedRewardSpec,
} from "./types.js";

const taskPath = (queueId: string, taskId: string) => `/v1/queues/${encodeURIComponent(queueId)}/tasks/${encodeURIComponent(taskId)}`;

/** A response body as the chunks it streams (Node's and browsers' ReadableStreams are async iterable). */
function streamOf(body: ReadableStream<Uint8Array>): AsyncIterable<Uint8Array> {
  return body as ReadableStream<Uint8Array> & AsyncIterable<Uint8Array>;
}

export class Rlxf {
  readonly url: string;
  readonly #t: Transport;
  readonly #q: FeedbackQueue;

  constructor(opts: RlxfOptions = {}) {
    this.url = (opts.url ?? env("RLXF_URL") ?? "http://127.0.0.1:8787").replace(/\/+$/, "");
    const f = opts.fetch ?? globalThis.fetch;
    if (!f) throw new RlxfError("missing_option", "no fetch available: pass options.fetch", { field: "fetch" });
    this.#t = new Transport({
      url: this.url,
      key: opts.key ?? env("RLXF_API_KEY"),
      fetch: f,
      timeoutMs: opts.timeoutMs ?? 30_000,
      retries: opts.retries ?? 5,
      backoffMs: opts.backoffMs ?? 200,
      maxBackoffMs: opts.maxBackoffMs ?? 10_000,
      maxBatch: opts.maxBatch ?? 1000,
    });
    this.#q = new FeedbackQueue(this.#t, {
      batchSize: opts.batchSize ?? 500,
      flushIntervalMs: opts.flushIntervalMs ?? 1000,
      maxQueue: opts.maxQueue ?? 100_000,
      validate: opts.validate ?? true,
      flushOnExit: opts.flushOnExit ?? true,
      onError:
        opts.onError ??
        ((e, records) => {
          console.error(`[rlxf] ${records.length} feedback record(s) not stored: ${e.message}`);
        }),
    });
  }

  get stats(): ClientStats {
    return this.#q.stats;
  }

  /** One API call with retries; returns the successful response (2xx) or throws RlxfApiError. */
  request(method: string, path: string, opts: { query?: Query; body?: unknown; notFoundOk?: boolean } = {}): Promise<Response> {
    return this.#t.request(method, path, opts);
  }

  // ------------------------------------------------------------ writes ---

  /** Store items now (one request per `maxBatch` records; each request all or nothing). */
  createItems(items: NewItem | NewItem[]): Promise<WriteResult> {
    return this.#t.create("/v1/items", items);
  }

  createGenerations(generations: NewGeneration | NewGeneration[]): Promise<WriteResult> {
    return this.#t.create("/v1/generations", generations);
  }

  /** Store feedback now, bypassing the queue. */
  createFeedback(feedback: NewFeedback | NewFeedback[]): Promise<WriteResult> {
    return this.#t.create("/v1/feedback", feedback);
  }

  /**
   * Queue one feedback record; returns its id (the given one, or a new UUID).
   * It is sent in a batch; `flush()` or `close()` waits for it.
   */
  feedback(record: NewFeedback): string {
    return this.#q.add(record);
  }

  /** Send everything queued so far; resolves when each record is stored or handed to onError. */
  flush(): Promise<void> {
    return this.#q.flush();
  }

  /** Flush, then stop: no more `feedback()`. */
  close(): Promise<void> {
    return this.#q.close();
  }

  // ------------------------------------------------------------- reads ---

  getItem(id: string): Promise<Item | undefined> {
    return this.#t.maybe(`/v1/items/${encodeURIComponent(id)}`);
  }
  getGeneration(id: string): Promise<Generation | undefined> {
    return this.#t.maybe(`/v1/generations/${encodeURIComponent(id)}`);
  }
  getFeedback(id: string): Promise<Feedback | undefined> {
    return this.#t.maybe(`/v1/feedback/${encodeURIComponent(id)}`);
  }

  listItems(filter: ItemFilter = {}): Promise<Page<Item>> {
    return this.#t.json("GET", "/v1/items", { query: filter as Query });
  }
  listGenerations(filter: GenerationFilter = {}): Promise<Page<Generation>> {
    return this.#t.json("GET", "/v1/generations", { query: filter as Query });
  }
  listFeedback(filter: FeedbackFilter = {}): Promise<Page<Feedback>> {
    return this.#t.json("GET", "/v1/feedback", { query: filter as Query });
  }

  /** Every matching record, a page at a time. */
  iterateItems(filter: Omit<ItemFilter, "cursor"> = {}): AsyncIterable<Item> {
    return this.#t.pages("/v1/items", filter as Query);
  }
  iterateGenerations(filter: Omit<GenerationFilter, "cursor"> = {}): AsyncIterable<Generation> {
    return this.#t.pages("/v1/generations", filter as Query);
  }
  iterateFeedback(filter: Omit<FeedbackFilter, "cursor"> = {}): AsyncIterable<Feedback> {
    return this.#t.pages("/v1/feedback", filter as Query);
  }

  /** The leaderboard; one the server computes as a job (many bootstrap rounds, many records) is waited for. */
  async leaderboard(opts: LeaderboardOptions = {}): Promise<Leaderboard> {
    const r = await this.#t.json<Leaderboard | { job: Job }>("GET", "/v1/leaderboard", { query: opts as Query });
    if ("job" in r && r.job?.id) {
      const done = await this.waitForJob(r.job.id);
      if (done.state !== "succeeded") throw new RlxfApiError(0, "job_failed", `the leaderboard job ${done.id} ${done.state}: ${done.error ?? ""}`);
      return done.result as Leaderboard;
    }
    return r as Leaderboard;
  }

  // ---------------------------------------------------------------- jobs ---

  /** Submit a background job (see the README's jobs section for each kind's input); answers at once. */
  async submitJob(kind: JobKind, input: unknown, opts: { maxAttempts?: number } = {}): Promise<JobDetail> {
    return (await this.#t.json<{ job: JobDetail }>("POST", "/v1/jobs", { body: { kind, input, ...opts } })).job;
  }
  /** The project's jobs, newest first (one page; pass `cursor: nextCursor` for the next). */
  jobs(filter: { state?: JobState; kind?: JobKind; limit?: number; cursor?: string } = {}): Promise<{ jobs: Job[]; nextCursor?: string }> {
    return this.#t.json("GET", "/v1/jobs", { query: filter });
  }
  /** One job with the error of every failed attempt and its failed units; undefined when there is none. */
  async job(id: string): Promise<JobDetail | undefined> {
    return (await this.#t.maybe<{ job: JobDetail }>(`/v1/jobs/${encodeURIComponent(id)}`))?.job;
  }
  /** A page of a job's units (outcome, score, the record stored), in unit order. */
  jobUnits(id: string, page: { after?: number; limit?: number; failed?: boolean } = {}): Promise<{ units: JobUnit[]; next?: number }> {
    return this.#t.json("GET", `/v1/jobs/${encodeURIComponent(id)}/units`, { query: { ...page, ...(page.failed !== undefined ? { failed: String(page.failed) } : {}) } as Query });
  }
  /** The file a job made (an export), as text. */
  async jobFile(id: string): Promise<string> {
    return (await this.request("GET", `/v1/jobs/${encodeURIComponent(id)}/file`)).text();
  }
  async cancelJob(id: string): Promise<JobDetail> {
    return (await this.#t.json<{ job: JobDetail }>("POST", `/v1/jobs/${encodeURIComponent(id)}/cancel`)).job;
  }
  /** Run again what failed or was cancelled. */
  async retryJob(id: string): Promise<JobDetail> {
    return (await this.#t.json<{ job: JobDetail }>("POST", `/v1/jobs/${encodeURIComponent(id)}/retry`)).job;
  }
  /** Wait until a job ends (succeeded, failed or cancelled), polling every `intervalMs` (default 500). */
  async waitForJob(id: string, opts: { intervalMs?: number; timeoutMs?: number; onProgress?: (job: JobDetail) => void } = {}): Promise<JobDetail> {
    const end = opts.timeoutMs !== undefined ? Date.now() + opts.timeoutMs : Infinity;
    for (;;) {
      const j = await this.job(id);
      if (!j) throw new RlxfApiError(404, "not_found", `job ${id} not found`);
      opts.onProgress?.(j);
      if (j.state === "succeeded" || j.state === "failed" || j.state === "cancelled") return j;
      if (Date.now() > end) throw new RlxfApiError(0, "timeout", `job ${id} is still ${j.state} after ${opts.timeoutMs} ms`);
      await sleep(opts.intervalMs ?? 500);
    }
  }

  /** The project's feedback as a dataset, one line at a time (streamed). */
  async *export(format: ExportFormat): AsyncGenerator<string> {
    const res = await this.request("GET", "/v1/export", { query: { format } });
    if (!res.body) return;
    const decoder = new TextDecoder();
    let held = "";
    for await (const chunk of streamOf(res.body)) {
      held += decoder.decode(chunk, { stream: true });
      let nl: number;
      while ((nl = held.indexOf("\n")) >= 0) {
        yield held.slice(0, nl);
        held = held.slice(nl + 1);
      }
    }
    held += decoder.decode();
    if (held) yield held;
  }

  // ---------------------------------------------------------------- rules ---

  /**
   * Admin: a rule that runs a judge or a verifier on every new generation (or new pair, for a pairwise judge)
   * matching its filter, on a deterministic sample, at most `maxPerHour` times an hour.
   */
  async createRule(rule: CreateRuleBody): Promise<Rule> {
    return (await this.#t.json<{ rule: Rule }>("POST", "/v1/rules", { body: rule })).rule;
  }
  /** Admin/read: the project's rules with their counts (matched, evaluated, failed, pending). */
  async rules(): Promise<Rule[]> {
    return (await this.#t.json<{ rules: Rule[] }>("GET", "/v1/rules")).rules;
  }
  /** One rule with its counts; undefined when there is none. */
  async rule(id: string): Promise<Rule | undefined> {
    return (await this.#t.maybe<{ rule: Rule }>(`/v1/rules/${encodeURIComponent(id)}`))?.rule;
  }
  /** Admin: change a rule (`{ enabled: false }` disables it). */
  async updateRule(id: string, patch: PatchRuleBody): Promise<Rule> {
    return (await this.#t.json<{ rule: Rule }>("PATCH", `/v1/rules/${encodeURIComponent(id)}`, { body: patch })).rule;
  }
  /** Admin: delete a rule and its pending evaluations (its verdicts stay). */
  async deleteRule(id: string): Promise<void> {
    await this.#t.json("DELETE", `/v1/rules/${encodeURIComponent(id)}`);
  }

  // --------------------------------------------------------------- queues ---

  /** Admin: an annotation queue from a selection of stored generations and the questions to ask. */
  async createQueue(definition: QueueDefinition): Promise<Queue> {
    return (await this.#t.json<{ queue: Queue }>("POST", "/v1/queues", { body: definition })).queue;
  }
  async queues(): Promise<Queue[]> {
    return (await this.#t.json<{ queues: Queue[] }>("GET", "/v1/queues")).queues;
  }
  async queue(id: string): Promise<Queue | undefined> {
    return (await this.#t.maybe<{ queue: Queue }>(`/v1/queues/${encodeURIComponent(id)}`))?.queue;
  }
  /** The next task for this key's annotator (locked to them), or null when nothing is left. */
  async nextTask(queueId: string): Promise<QueueTask | null> {
    return (await this.#t.json<{ task: QueueTask | null }>("POST", `/v1/queues/${encodeURIComponent(queueId)}/next`)).task;
  }
  saveDraft(queueId: string, taskId: string, answers: Record<string, unknown>): Promise<void> {
    return this.#t.empty("PUT", `${taskPath(queueId, taskId)}/draft`, { body: { answers } });
  }
  skipTask(queueId: string, taskId: string): Promise<void> {
    return this.#t.empty("POST", `${taskPath(queueId, taskId)}/skip`);
  }
  /**
   * Submit answers (question id → answer, by displayed slot). Retried on network errors under one
   * submissionId, so a lost response never stores the feedback twice.
   */
  submitTask(queueId: string, taskId: string, answers: Record<string, unknown>, submissionId: string = uuid()): Promise<SubmitResult> {
    return this.#t.json("POST", `${taskPath(queueId, taskId)}/submit`, { body: { submissionId, answers } });
  }
  /** Admin/read: a page of a queue's tasks with each annotator's claim (locked, expired, submitted, skipped). */
  queueTasks(queueId: string, page: { offset?: number; limit?: number } = {}): Promise<QueueTaskList> {
    return this.#t.json("GET", `/v1/queues/${encodeURIComponent(queueId)}/tasks`, { query: page });
  }
  /** Admin: free a task's live locks (one annotator's, or all) so others can take it; returns how many were freed. */
  async releaseTask(queueId: string, taskId: string, annotator?: string): Promise<number> {
    return (await this.#t.json<Released>("POST", `${taskPath(queueId, taskId)}/release`, { query: { annotator } })).released;
  }
  /** Admin: delete a queue with its tasks, locks and drafts (the feedback submitted through it is kept). */
  deleteQueue(queueId: string): Promise<DeletedQueue> {
    return this.#t.json("DELETE", `/v1/queues/${encodeURIComponent(queueId)}`);
  }
  /**
   * Admin: a queue of the stored pairs where judges disagree most (as `rlxf judge route --queue`). `questions`
   * default to one pairwise question.
   */
  routeToQueue(body: RouteQueueOptions): Promise<{ queue: Queue; pairs: { generations: [string, string]; disagreement: number; judges: number }[] }> {
    return this.#t.json("POST", "/v1/queues/from-route", { body });
  }
  /** Admin: the sources whose feedback each question shows as a suggestion (an empty list removes them). */
  async setSuggestions(queueId: string, suggestions: SuggestionSource[]): Promise<Queue> {
    return (await this.#t.json<{ queue: Queue }>("PUT", `/v1/queues/${encodeURIComponent(queueId)}/suggestions`, { body: { suggestions } })).queue;
  }
  /** This key's annotator's submitted tasks, most recent first. */
  myTasks(queueId: string, page: { offset?: number; limit?: number } = {}): Promise<MyTaskList> {
    return this.#t.json("GET", `/v1/queues/${encodeURIComponent(queueId)}/mine`, { query: page });
  }
  /** One of this annotator's tasks (submitted ones carry their latest `answers` and `revision`). */
  async task(queueId: string, taskId: string): Promise<QueueTask | undefined> {
    return (await this.#t.maybe<{ task: QueueTask }>(taskPath(queueId, taskId)))?.task;
  }
  /**
   * Answer a submitted task again; the new records supersede the earlier ones. Pass the `revision` you edited to
   * be told (409) when it was revised meanwhile.
   */
  reviseTask(queueId: string, taskId: string, answers: Record<string, unknown>, opts: { revision?: number; submissionId?: string } = {}): Promise<SubmitResult> {
    return this.#t.json("POST", `${taskPath(queueId, taskId)}/revise`, { body: { submissionId: opts.submissionId ?? uuid(), answers, ...(opts.revision !== undefined ? { revision: opts.revision } : {}) } });
  }
  /** Admin/read: every annotator's latest answer to a task, and its adjudication. */
  taskAnswers(queueId: string, taskId: string): Promise<TaskAnswers> {
    return this.#t.json("GET", `${taskPath(queueId, taskId)}/answers`);
  }
  /** Admin: the adjudicated answers to a task (by the task's order of generations). */
  adjudicateTask(queueId: string, taskId: string, answers: Record<string, unknown>, opts: { revision?: number; submissionId?: string } = {}): Promise<SubmitResult> {
    return this.#t.json("POST", `${taskPath(queueId, taskId)}/adjudicate`, { body: { submissionId: opts.submissionId ?? uuid(), answers, ...(opts.revision !== undefined ? { revision: opts.revision } : {}) } });
  }
  /** Admin/read: items matching every condition given; follow `nextCursor` (each call examines at most `scan` items). */
  searchItems(query: SearchItemsOptions): Promise<SearchPage> {
    return this.#t.json("GET", "/v1/search/items", { query: query as Query });
  }
  /** Admin/read: progress and agreement per question. */
  queueStats(queueId: string): Promise<QueueStats> {
    return this.#t.json("GET", `/v1/queues/${encodeURIComponent(queueId)}/stats`);
  }
  distributions(filter: { dataset?: string; queueId?: string; sourceType?: SourceType; bins?: number } = {}): Promise<Distributions> {
    return this.#t.json("GET", "/v1/analysis/distributions", { query: filter });
  }
  /** Start an export in the background; poll `exportJob`, then read `exportFile`. */
  startExport(format: ExportFormat, filters?: Record<string, unknown>): Promise<ExportJob> {
    return this.#t.json("POST", "/v1/exports", { body: { format, ...(filters ? { filters } : {}) } });
  }
  exportJob(id: string): Promise<ExportJob> {
    return this.#t.json("GET", `/v1/exports/${encodeURIComponent(id)}`);
  }
  /** Wait for an export to finish (done or failed), polling every `intervalMs` (default 500). */
  async waitForExport(id: string, opts: { intervalMs?: number } = {}): Promise<ExportJob> {
    for (;;) {
      const job = await this.exportJob(id);
      if (job.status !== "running") return job;
      await sleep(opts.intervalMs ?? 500);
    }
  }
  async exportFile(id: string): Promise<string> {
    return (await this.request("GET", `/v1/exports/${encodeURIComponent(id)}/file`)).text();
  }

  // -------------------------------------------------------------- admin ---

  me(): Promise<ApiKey> {
    return this.#t.json("GET", "/v1/me");
  }
  health(): Promise<Health> {
    return this.#t.json("GET", "/v1/health");
  }
  openapi(): Promise<Record<string, unknown>> {
    return this.#t.json("GET", "/v1/openapi.json");
  }

  /** Admin: a new key of this project; its secret is in the answer only. */
  createKey(opts: { role: Role; name?: string }): Promise<CreatedKey> {
    return this.#t.json("POST", "/v1/keys", { body: opts });
  }
  async listKeys(opts: { includeRevoked?: boolean } = {}): Promise<ApiKey[]> {
    return (await this.#t.json<{ records: ApiKey[] }>("GET", "/v1/keys", { query: opts as Query })).records;
  }
  revokeKey(id: string): Promise<ApiKey> {
    return this.#t.json("DELETE", `/v1/keys/${encodeURIComponent(id)}`);
  }

  /** Admin: assign stored items to an annotator (the name of their annotate key). */
  assign(annotator: string, itemIds: string[]): Promise<AssignResult> {
    return this.#t.json("POST", "/v1/assignments", { body: { annotator, itemIds } });
  }
  unassign(annotator: string, itemIds: string[]): Promise<UnassignResult> {
    return this.#t.json("DELETE", "/v1/assignments", { body: { annotator, itemIds } });
  }
  listAssignments(filter: { annotator?: string; itemId?: string; limit?: number; cursor?: string } = {}): Promise<Page<Assignment>> {
    return this.#t.json("GET", "/v1/assignments", { query: filter });
  }
  iterateAssignments(filter: { annotator?: string; itemId?: string; limit?: number } = {}): AsyncIterable<Assignment> {
    return this.#t.pages("/v1/assignments", filter);
  }

  // --------------------------------------------------------------- reward ---

  /** Scores samples with a reward spec (a name, `name@N`, or a spec object); `store` also stores them. */
  reward(samples: RewardSample[], opts: { spec?: RewardSpec; store?: boolean; policy?: string } = {}): Promise<{ results: RewardResult[] }> {
    return this.#t.json("POST", "/v1/reward", { body: { samples, ...opts } });
  }
  /** Saves `spec` as the next version of `name` in the key's project (admin keys). */
  saveRewardSpec(name: string, spec: RewardSpec, description?: string): Promise<SavedRewardSpec> {
    return this.#t.json("POST", "/v1/reward/specs", { body: { name, spec, ...(description !== undefined ? { description } : {}) } });
  }
  async rewardSpecs(): Promise<SavedRewardSpec[]> {
    return (await this.#t.json<{ specs: SavedRewardSpec[] }>("GET", "/v1/reward/specs")).specs;
  }
  /** One saved spec (the latest version, or `version`) with its versions; undefined when there is none. */
  rewardSpec(name: string, version?: number): Promise<(SavedRewardSpec & { versions: number[] }) | undefined> {
    return this.#t.maybe(`/v1/reward/specs/${encodeURIComponent(name)}${version !== undefined ? `?version=${version}` : ""}`);
  }
  async deleteRewardSpec(name: string, version?: number): Promise<number> {
    return (await this.#t.json<{ deleted: number }>("DELETE", `/v1/reward/specs/${encodeURIComponent(name)}`, { query: { version } })).deleted;
  }

  // ------------------------------------------------------------ results ---

  /** Admin/read: lab runs and sweeps saved with `rlxf lab ... --save NAME` (the latest version of each), newest first. */
  async labResults(): Promise<LabResultSummary[]> {
    return (await this.#t.json<{ results: LabResultSummary[] }>("GET", "/v1/lab/results")).results;
  }
  /** One saved lab result (the latest version, or `version`) with its curves or rows; undefined when there is none. */
  labResult(name: string, version?: number): Promise<(LabResult & { result: LabResultBody }) | undefined> {
    return this.#t.maybe(`/v1/lab/results/${encodeURIComponent(name)}${version !== undefined ? `?version=${version}` : ""}`);
  }
  /** Admin/read: stored test-time loop runs, newest first. */
  async loopRuns(filter: { loop?: string; limit?: number } = {}): Promise<LoopRun[]> {
    return (await this.#t.json<{ runs: LoopRun[] }>("GET", "/v1/loops/runs", { query: filter })).runs;
  }
  /** A loop run's report (metrics recomputed from its steps, and its tasks); undefined when there is none. */
  loopRun(id: string, opts: { outputs?: boolean } = {}): Promise<LoopRunReport | undefined> {
    return this.#t.maybe(`/v1/loops/runs/${encodeURIComponent(id)}${opts.outputs ? "?outputs=true" : ""}`);
  }
  /** Admin/read: critic evaluations saved with `rlxf critic eval ... --save NAME` (the latest version of each), newest first. */
  async criticResults(): Promise<CriticEvalSummary[]> {
    return (await this.#t.json<{ results: CriticEvalSummary[] }>("GET", "/v1/critics/results")).results;
  }
  /**
   * One saved critic evaluation (the latest version, or `version`) with its metrics per task and overall, and with
   * `outcomes` each solution's verdicts and correctness per round; undefined when there is none.
   */
  criticResult(
    name: string,
    opts: { version?: number; outcomes?: boolean } = {},
  ): Promise<(CriticEvalSummary & { versions: number[]; result: Omit<CriticEvalResult, "outcomes"> & { outcomes?: CriticEvalResult["outcomes"] } }) | undefined> {
    const q = new URLSearchParams();
    if (opts.version !== undefined) q.set("version", String(opts.version));
    if (opts.outcomes) q.set("outcomes", "true");
    const qs = q.toString();
    return this.#t.maybe(`/v1/critics/results/${encodeURIComponent(name)}${qs ? `?${qs}` : ""}`);
  }
}
