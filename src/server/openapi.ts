/**
 * The OpenAPI 3.1 document, generated from the zod schemas the handlers
 * validate with (spec.ts and the feedback room's record schemas).
 */
import { z } from "zod";
import { Feedback, Generation, Item } from "../feedback/schema.js";
import { type Action, ROLES, ROLE_SUMMARIES, rolesFor } from "../roles.js";
import * as S from "../api/index.js";
import { queueOperations, queueSchemas } from "./queue-openapi.js";
import { criticOpenApi } from "./critics.js";
import { jobOperations, jobSchemas } from "./jobs-openapi.js";
import { ruleOperations, ruleSchemas } from "./rules-openapi.js";
import { DEFAULT_LIMITS } from "./limits.js";

type Json = Record<string, unknown>;

export interface Op {
  method: "get" | "post" | "delete" | "put" | "patch";
  path: string;
  summary: string;
  description?: string;
  /** What the operation is in the roles table (src/roles.ts), whose roles may do it; "public" needs no key. */
  action: Action | "public";
  query?: z.ZodObject;
  pathId?: string;
  /** Further path parameters after `pathId`. */
  pathIds?: string[];
  body?: string;
  ok: { status: number; description: string; schema?: string; contentType?: string; also?: number };
  errors?: number[];
}

const WRITE_ERRORS = [400, 401, 403, 404, 409, 413, 415];

function operations(maxBatch: number, rewardSamples: number): Op[] {
  const write = (kind: "Item" | "Generation" | "Feedback", path: string, action: Action, extra = ""): Op => ({
    method: "post",
    path,
    summary: `Store ${kind === "Item" ? "items" : kind === "Generation" ? "generations" : "feedback"}: one record, or {"batch": [...]} of up to ${maxBatch}`,
    description:
      "All or nothing: one invalid record rejects the whole request and nothing is stored. Idempotent by id: sending the same id " +
      "with the same body again reports it as `existing` (safe retries); the same id with a different body is a 409. A record " +
      "without `id` gets a random UUID (such a record is not safe to retry). `project` may be omitted (the key's project is used); " +
      "naming another project is a 404." + extra,
    action,
    body: `Write${kind}Body`,
    ok: { status: 201, also: 200, description: "stored (201 when at least one record is new, 200 when all were already stored)", schema: "WriteResult" },
    errors: WRITE_ERRORS,
  });
  const list = (path: string, summary: string, query: z.ZodObject, schema: string, action: Action, description?: string): Op => ({
    method: "get",
    path,
    summary,
    ...(description ? { description } : {}),
    action,
    query,
    ok: { status: 200, description: "one page, oldest recorded first", schema },
    errors: [400, 401, 403],
  });
  const one = (path: string, summary: string, schema: string, action: Action, description?: string): Op => ({
    method: "get",
    path,
    summary,
    ...(description ? { description } : {}),
    action,
    pathId: "id",
    ok: { status: 200, description: "the record", schema },
    errors: [400, 401, 403, 404],
  });
  return [
    { method: "get", path: "/v1/health", summary: "Liveness", action: "public", ok: { status: 200, description: "the server is up", schema: "Health" } },
    { method: "get", path: "/v1/openapi.json", summary: "This document", action: "public", ok: { status: 200, description: "OpenAPI 3.1 document" } },
    { method: "get", path: "/v1/me", summary: "The key making the request", action: "me.read", ok: { status: 200, description: "the key (never its secret)", schema: "ApiKey" }, errors: [401] },
    write("Item", "/v1/items", "items.write"),
    write("Generation", "/v1/generations", "generations.write", " A generation's item must be stored already or be in the same request."),
    write(
      "Feedback",
      "/v1/feedback",
      "feedback.write",
      " Targets must be stored generations of one item. Annotate keys may omit `source` (it becomes {type: human, id: <key name>}) and may only target generations of items assigned to them.",
    ),
    list("/v1/items", "List items", S.ListItemsQuery, "ItemPage", "items.list", "Annotate keys list their items with GET /v1/assignments."),
    one("/v1/items/{id}", "One item", "Item", "items.read", "Annotate keys see only items assigned to them. Ids may contain `/`: percent-encode them."),
    list("/v1/generations", "List generations", S.ListGenerationsQuery, "GenerationPage", "generations.read", "Annotate keys must pass an assigned itemId."),
    one("/v1/generations/{id}", "One generation", "Generation", "generations.read"),
    list("/v1/feedback", "List feedback", S.ListFeedbackQuery, "FeedbackPage", "feedback.read", "Annotate keys see only their own feedback."),
    one("/v1/feedback/{id}", "One feedback record", "Feedback", "feedback.read"),
    {
      method: "get",
      path: "/v1/leaderboard",
      summary: "Leaderboard of policies from the project's feedback",
      description:
        "bt: Bradley-Terry ratings (Elo scale) with percentile bootstrap intervals, from pairwise, ranking and rating feedback. alpaca-eval: win rates (and length-controlled win rates) against a baseline, from pairwise feedback. " +
        "More than 200 bootstrap rounds, or more than 50,000 records, is computed as a `leaderboard` job: the answer is then 202 with the job to follow at GET /v1/jobs/{id}.",
      action: "leaderboard.read",
      query: S.LeaderboardQuery,
      ok: { status: 200, also: 202, description: "rows, best first (202: the job computing them)", schema: "Leaderboard" },
      errors: [400, 401, 403],
    },
    {
      method: "get",
      path: "/v1/export",
      summary: "Export the project's feedback as a dataset, streamed",
      description: "JSON Lines (application/x-ndjson) for trl-preference, trl-unpaired, openai-dpo and rlxf; one JSON array for alpaca-eval. Streams a page at a time.",
      action: "export",
      query: S.ExportQuery,
      ok: { status: 200, description: "the dataset", contentType: "application/x-ndjson" },
      errors: [400, 401, 403],
    },
    {
      method: "post",
      path: "/v1/keys",
      summary: "Create a key in this project (its secret is returned once)",
      action: "keys.create",
      body: "CreateKeyBody",
      ok: { status: 201, description: "the new key and its secret", schema: "CreatedKey" },
      errors: [400, 401, 403, 413, 415],
    },
    { method: "get", path: "/v1/keys", summary: "List this project's keys", action: "keys.list", query: S.ListKeysQuery, ok: { status: 200, description: "keys, oldest first", schema: "KeyList" }, errors: [400, 401, 403] },
    { method: "delete", path: "/v1/keys/{id}", summary: "Revoke a key", action: "keys.revoke", pathId: "id", ok: { status: 200, description: "the revoked key", schema: "ApiKey" }, errors: [400, 401, 403, 404] },
    {
      method: "post",
      path: "/v1/assignments",
      summary: "Assign stored items to an annotator (the name of their annotate key)",
      action: "assignments.create",
      body: "AssignBody",
      ok: { status: 200, description: "counts", schema: "AssignResult" },
      errors: [400, 401, 403, 404, 413, 415],
    },
    {
      method: "delete",
      path: "/v1/assignments",
      summary: "Unassign items from an annotator",
      action: "assignments.delete",
      body: "AssignBody",
      ok: { status: 200, description: "how many were removed", schema: "UnassignResult" },
      errors: [400, 401, 403, 413, 415],
    },
    list("/v1/assignments", "List assignments (with each item)", S.ListAssignmentsQuery, "AssignmentPage", "assignments.read", "Annotate keys see only their own."),
    {
      method: "post",
      path: "/v1/reward",
      summary: `Rewards of a batch of samples (up to ${rewardSamples}), each scored by a reward spec`,
      description:
        "A reward spec is a verifier name or spec, a stored reward model ({\"type\": \"reward-model\", \"model\": \"name@N\"}, scored as sigmoid(reward); a segment model also gives details.segments: [{start, end, reward, rewards, flagged}], with passages from the sample's reference), " +
        "or a composite mixing them with weights. Results are cached in-process (by spec, prompt, completion and reference). " +
        "With store: true (admin or ingest keys), each sample is stored as an item, a generation and a verification feedback record, with content-hash ids.",
      action: "reward.compute",
      body: "RewardBody",
      ok: { status: 200, description: "one result per sample, in order", schema: "RewardResponse" },
      errors: [400, 401, 403, 404, 413, 415],
    },
    {
      method: "post",
      path: "/v1/reward/specs",
      summary: "Save a named reward spec in this project (saving a name again makes its next version)",
      description:
        "The spec is checked before it is saved (names resolve, reward models exist, judges are known). Samples then name it as \"name\" (latest) or \"name@N\". " +
        "Names of shipped verifiers are taken.",
      action: "rewardSpecs.save",
      body: "SaveRewardSpecBody",
      ok: { status: 201, description: "the saved version", schema: "RewardSpecRecord" },
      errors: [400, 401, 403, 404, 413, 415],
    },
    { method: "get", path: "/v1/reward/specs", summary: "List this project's saved reward specs (latest versions)", action: "rewardSpecs.read", ok: { status: 200, description: "specs by name", schema: "RewardSpecList" }, errors: [401, 403] },
    {
      method: "get",
      path: "/v1/reward/specs/{name}",
      summary: "One saved reward spec (the latest, or ?version=N) with its versions",
      action: "rewardSpecs.read",
      pathId: "name",
      query: S.RewardSpecQuery,
      ok: { status: 200, description: "the spec", schema: "RewardSpecRecord" },
      errors: [400, 401, 403, 404],
    },
    {
      method: "delete",
      path: "/v1/reward/specs/{name}",
      summary: "Delete a saved reward spec (every version, or ?version=N)",
      action: "rewardSpecs.delete",
      pathId: "name",
      query: S.RewardSpecQuery,
      ok: { status: 200, description: "how many versions were deleted", schema: "DeletedCount" },
      errors: [400, 401, 403, 404],
    },
    {
      method: "post",
      path: "/v1/reward/openrlhf",
      summary: "OpenRLHF's remote reward-model protocol (point --remote_rm_url here)",
      description:
        "Each query is a prompt followed by the response; a query that starts with its prompt is scored on the rest. labels are the ground truths. " +
        'The spec comes from the body\'s spec, the spec query parameter, or defaults to "math". Nothing is stored.',
      action: "reward.compute",
      query: S.OpenRlhfQuery,
      body: "OpenRlhfBody",
      ok: { status: 200, description: "rewards and scores (equal), and per-component extra_logs", schema: "OpenRlhfResponse" },
      errors: [400, 401, 403, 404, 413, 415],
    },
    ...queueOperations(),
    ...criticOpenApi().operations,
    ...jobOperations(),
    ...ruleOperations(),
  ];
}

const STATUS_TEXT: Record<number, string> = {
  400: "invalid request (see error.issues)",
  401: "missing, unknown or revoked key",
  403: "the key's role may not do this",
  404: "not found in the key's project (records of other projects are never visible)",
  409: "an id already stored with a different body",
  413: "body or batch too large",
  415: "not JSON",
  429: "over the key's or the project's rate limit, or too many exports at once: retry after Retry-After seconds",
};

function clean(schema: Json): Json {
  const { $schema: _s, $id: _i, ...rest } = schema;
  return rest;
}

/** Records sent to the API may leave out `id` (the server assigns one) and `project` (the key's). */
function idOptional(schema: Json): Json {
  const fix = (o: Json): Json => {
    const out = { ...o };
    if (Array.isArray(out.required)) out.required = (out.required as string[]).filter((r) => r !== "id");
    const props = out.properties as Record<string, Json> | undefined;
    if (props?.id) {
      out.properties = {
        ...props,
        id: { ...props.id, description: "your id for the record; sending it again with the same body is a no-op. Default: a random UUID" },
        ...(props.project
          ? { project: { type: "string", minLength: 1, maxLength: 512, description: "default: the key's project; naming another project is a 404" } }
          : {}),
      };
    }
    for (const k of ["oneOf", "anyOf"]) if (Array.isArray(out[k])) out[k] = (out[k] as Json[]).map(fix);
    return out;
  };
  return fix(schema);
}

/** The OpenAPI 3.1 document of the API. */
export function openApiDocument(opts: { maxBatch?: number; maxBodyBytes?: number; rewardSamples?: number; version?: string } = {}): Json {
  const maxBatch = opts.maxBatch ?? S.DEFAULT_MAX_BATCH;
  const rewardSamples = opts.rewardSamples ?? DEFAULT_LIMITS.rewardSamples;
  const inputs = z.registry<{ id: string }>();
  inputs.add(Item, { id: "ItemInput" });
  inputs.add(Generation, { id: "GenerationInput" });
  inputs.add(Feedback, { id: "FeedbackInput" });
  inputs.add(S.writeBody(Item, maxBatch), { id: "WriteItemBody" });
  inputs.add(S.writeBody(Generation, maxBatch), { id: "WriteGenerationBody" });
  inputs.add(S.writeBody(Feedback, maxBatch), { id: "WriteFeedbackBody" });
  inputs.add(S.CreateKeyBody, { id: "CreateKeyBody" });
  inputs.add(S.AssignBody, { id: "AssignBody" });
  inputs.add(S.RewardBody(rewardSamples), { id: "RewardBody" });
  inputs.add(S.OpenRlhfBody(rewardSamples), { id: "OpenRlhfBody" });
  inputs.add(S.SaveRewardSpecBody, { id: "SaveRewardSpecBody" });

  const outputs = z.registry<{ id: string }>();
  outputs.add(Item, { id: "Item" });
  outputs.add(Generation, { id: "Generation" });
  outputs.add(Feedback, { id: "Feedback" });
  outputs.add(S.ItemPage, { id: "ItemPage" });
  outputs.add(S.GenerationPage, { id: "GenerationPage" });
  outputs.add(S.FeedbackPage, { id: "FeedbackPage" });
  outputs.add(S.WriteResultSchema, { id: "WriteResult" });
  outputs.add(S.ErrorSchema, { id: "Error" });
  outputs.add(S.ApiKeySchema, { id: "ApiKey" });
  outputs.add(S.CreatedKeySchema, { id: "CreatedKey" });
  outputs.add(S.KeyListSchema, { id: "KeyList" });
  outputs.add(S.AssignmentPage, { id: "AssignmentPage" });
  outputs.add(S.AssignResultSchema, { id: "AssignResult" });
  outputs.add(S.UnassignResultSchema, { id: "UnassignResult" });
  outputs.add(S.LeaderboardSchema, { id: "Leaderboard" });
  outputs.add(S.HealthSchema, { id: "Health" });
  outputs.add(S.RewardResponseSchema, { id: "RewardResponse" });
  outputs.add(S.OpenRlhfResponseSchema, { id: "OpenRlhfResponse" });
  outputs.add(S.RewardSpecRecordSchema, { id: "RewardSpecRecord" });
  outputs.add(S.RewardSpecListSchema, { id: "RewardSpecList" });
  outputs.add(z.object({ deleted: z.number().int() }), { id: "DeletedCount" });
  for (const [kind, set] of Object.entries(jobSchemas())) for (const [id, sch] of Object.entries(set)) (kind === "inputs" ? inputs : outputs).add(sch, { id });
  for (const [kind, set] of Object.entries(ruleSchemas())) for (const [id, sch] of Object.entries(set)) (kind === "inputs" ? inputs : outputs).add(sch, { id });
  for (const [kind, set] of Object.entries(queueSchemas())) for (const [id, sch] of Object.entries(set)) (kind === "inputs" ? inputs : outputs).add(sch, { id });
  for (const [id, sch] of Object.entries(criticOpenApi().schemas)) outputs.add(sch, { id });

  const uri = (id: string) => `#/components/schemas/${id}`;
  const common = { uri, unrepresentable: "any", target: "draft-2020-12" } as const;
  const schemas: Record<string, Json> = {};
  for (const [id, sch] of Object.entries(z.toJSONSchema(inputs, { ...common, io: "input" }).schemas)) {
    schemas[id] = id.endsWith("Input") ? idOptional(clean(sch as Json)) : clean(sch as Json);
  }
  for (const [id, sch] of Object.entries(z.toJSONSchema(outputs, { ...common, io: "output" }).schemas)) schemas[id] = clean(sch as Json);

  const paths: Record<string, Record<string, Json>> = {};
  for (const op of operations(maxBatch, rewardSamples)) {
    const parameters: Json[] = [];
    for (const id of op.pathId ? [op.pathId, ...(op.pathIds ?? [])] : []) parameters.push({ name: id, in: "path", required: true, schema: { type: "string", minLength: 1, maxLength: 512 } });
    if (op.query) {
      for (const [name, field] of Object.entries(op.query.shape)) {
        const js = clean(z.toJSONSchema(field as z.ZodType, { io: "input", unrepresentable: "any" }) as Json);
        const { description, ...schema } = js;
        const optional = (field as z.ZodType).safeParse(undefined).success;
        parameters.push({ name, in: "query", required: !optional, ...(description ? { description } : {}), schema });
      }
    }
    const responses: Record<string, Json> = {};
    const okContent = op.ok.schema
      ? { content: { [op.ok.contentType ?? "application/json"]: { schema: { $ref: uri(op.ok.schema) } } } }
      : op.ok.contentType
        ? { content: { [op.ok.contentType]: { schema: { type: "string" } } } }
        : {};
    responses[String(op.ok.status)] = { description: op.ok.description, ...okContent };
    if (op.ok.also) responses[String(op.ok.also)] = { description: op.ok.description, ...okContent };
    // Every request with a key may be over its rate limit.
    for (const st of op.action === "public" ? (op.errors ?? []) : [...new Set([...(op.errors ?? []), 429])]) {
      responses[String(st)] = { description: STATUS_TEXT[st] ?? "error", content: { "application/json": { schema: { $ref: uri("Error") } } } };
    }
    const operation: Json = {
      summary: op.summary,
      ...(op.description ? { description: op.description } : {}),
      ...(op.action === "public" ? { security: [] } : { "x-roles": rolesFor(op.action), "x-action": op.action }),
      ...(parameters.length ? { parameters } : {}),
      ...(op.body ? { requestBody: { required: true, content: { "application/json": { schema: { $ref: uri(op.body) } } } } } : {}),
      responses,
    };
    if (op.action !== "public") {
      operation.description = `${op.description ? `${op.description} ` : ""}Roles: ${rolesFor(op.action).join(", ")}.`;
    }
    (paths[op.path] ??= {})[op.method] = operation;
  }

  return {
    openapi: "3.1.0",
    info: {
      title: "rlxf API",
      version: opts.version ?? "1",
      description:
        "Collect items (prompts), generations (outputs of policies) and feedback of every kind, per project. " +
        "Authenticate with `Authorization: Bearer <key>` (create one with `rlxf keys create --project P --role admin|ingest|annotate|read`). " +
        `Roles: ${ROLES.map((r) => `${r}: ${ROLE_SUMMARIES[r]}`).join("; ")}; each operation lists its roles (x-roles). ` +
        `Request bodies are JSON (Content-Type: application/json), at most ${opts.maxBodyBytes ?? S.DEFAULT_MAX_BODY_BYTES} bytes. ` +
        "Every error has the shape of the Error schema. " +
        "The server has ceilings on what one request may make it do (body size, batch, bootstrap rounds, reward samples, rows a leaderboard or an export reads, " +
        "tasks of a queue, exports at once): a parameter over one is a 400 naming it, a body or batch a 413, work over one a 400 over_ceiling. " +
        "Each key and each project has a rate limit in units of work (a request costs 1, work weighs more): over it is a 429 with Retry-After.",
    },
    servers: [{ url: "/" }],
    security: [{ bearer: [] }],
    paths,
    components: {
      schemas,
      securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "an rlxf API key: rlxf_<id>_<secret>" } },
    },
  };
}

/** Every documented operation as "METHOD /path", for checks against the router. */
export function documentedOperations(): string[] {
  return operations(S.DEFAULT_MAX_BATCH, DEFAULT_LIMITS.rewardSamples).map((o) => `${o.method.toUpperCase()} ${o.path}`);
}
