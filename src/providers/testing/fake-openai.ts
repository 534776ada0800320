/**
 * A scriptable model server for tests and benchmarks, speaking the OpenAI
 * chat-completions protocol (`POST /v1/chat/completions`, with `logprobs` /
 * `top_logprobs`), OpenAI embeddings (`POST /v1/embeddings`) and Anthropic
 * messages (`POST /v1/messages`). A `respond` function decides every answer
 * from the request: text (with the probabilities of alternative first
 * tokens), an HTTP error (429 with `Retry-After`, 500...), a hang (for
 * timeouts), a dropped connection, or a malformed body. A fixed or computed
 * latency delays each answer.
 *
 *     const server = await startFakeModelServer({ respond: (r) => (r.prompt.includes("2+2") ? "4" : "?") });
 *     const model = createModel({ baseUrl: server.baseUrl, model: "fake" });
 *     ...
 *     await server.close();
 */
import { createHash } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";

export type FakeApi = "chat" | "messages" | "embeddings" | "other";

export interface FakeRequest {
  api: FakeApi;
  path: string;
  headers: http.IncomingHttpHeaders;
  /** The parsed JSON body (undefined when it was not JSON). */
  body: any;
  /** 0-based arrival order across all requests. */
  index: number;
  /** Chat messages, system prompt first (Anthropic's `system` included). Empty for embeddings. */
  messages: { role: string; content: string }[];
  /** Every message's content joined by blank lines: what scripted answers usually look at. */
  prompt: string;
  model?: string;
}

export interface FakeToken {
  token: string;
  logprob: number;
  top?: { token: string; logprob: number }[];
}

export interface FakeAnswer {
  text: string;
  /**
   * Probabilities of alternatives at the first generated token, e.g.
   * `{m: 0.8, M: 0.2}`; served as `top_logprobs` (the most likely first, as many
   * as the request asks for) when the request wants logprobs.
   */
  top?: Record<string, number>;
  /** Exact per-token logprobs, when `top` is not enough. */
  logprobs?: FakeToken[];
  usage?: { inputTokens: number; outputTokens: number };
  finishReason?: string;
  /** Extra latency for this answer (ms), on top of the server's. */
  delayMs?: number;
}

export interface FakeError {
  status: number;
  /** Sent as `Retry-After` (seconds, or an HTTP date string). */
  retryAfter?: number | string;
  /** Sent as `retry-after-ms`. */
  retryAfterMs?: number;
  message?: string;
  delayMs?: number;
}

export type FakeReply =
  | string
  | FakeAnswer
  | FakeError
  /** Never answer (the connection stays open until the client gives up or the server closes). */
  | { hang: true }
  /** Close the connection without an answer. */
  | { drop: true }
  /** Send this body as it is (status 200 unless given), to test garbled answers. */
  | { malformed: string; status?: number; delayMs?: number }
  /** Embeddings: one vector per input. */
  | { embeddings: number[][]; delayMs?: number };

export type Responder = (req: FakeRequest) => FakeReply | Promise<FakeReply>;

export interface FakeServerOptions {
  respond?: Responder;
  /** Delay before every answer (ms), or a function of the request. Default 0. */
  latencyMs?: number | ((req: FakeRequest) => number);
  /** The model name answers carry when the request names none. */
  modelName?: string;
  host?: string;
  port?: number;
}

export interface FakeServer {
  /** `http://127.0.0.1:PORT` */
  readonly url: string;
  /** `http://127.0.0.1:PORT/v1`: what OpenAI-compatible clients take as base URL. */
  readonly baseUrl: string;
  /** Every request received, in arrival order. */
  readonly requests: FakeRequest[];
  /** Requests being answered right now, and the most there ever were at once. */
  readonly inFlight: number;
  readonly maxInFlight: number;
  respond: Responder;
  latencyMs: number | ((req: FakeRequest) => number);
  /** Forget recorded requests and the in-flight high-water mark. */
  reset(): void;
  close(): Promise<void>;
}

/** A deterministic pseudo-embedding of a text (unit length), so equal texts get equal vectors. */
export function fakeEmbedding(text: string, dims = 8): number[] {
  const h = createHash("sha256").update(text).digest();
  const v = Array.from({ length: dims }, (_, i) => (h[i % h.length]! - 127.5) / 127.5);
  const norm = Math.sqrt(v.reduce((s, x) => s + x * x, 0)) || 1;
  return v.map((x) => x / norm);
}

const estimateTokens = (s: string) => Math.max(1, Math.ceil(s.length / 4));

function contentOf(c: unknown): string {
  if (typeof c === "string") return c;
  if (Array.isArray(c)) return c.map((p) => (typeof p === "string" ? p : typeof p?.text === "string" ? p.text : "")).join("");
  return "";
}

function tokensOf(a: FakeAnswer, topN: number): FakeToken[] {
  if (a.logprobs) return a.logprobs.map((t) => ({ ...t, ...(t.top ? { top: t.top.slice(0, topN) } : {}) }));
  const pieces = a.text.match(/\s*\S+|\s+/g) ?? [];
  return pieces.map((token, i) => {
    if (i > 0 || !a.top) return { token, logprob: 0, top: [{ token, logprob: 0 }].slice(0, topN) };
    const alts = Object.entries(a.top)
      .filter(([, p]) => p > 0)
      .sort((x, y) => y[1] - x[1])
      .map(([t, p]) => ({ token: t, logprob: Math.log(p) }));
    const own = alts.find((t) => t.token === token)?.logprob ?? (alts.length ? Math.log(1e-6) : 0);
    return { token, logprob: own, top: alts.slice(0, topN) };
  });
}

const isAnswer = (r: FakeReply): r is FakeAnswer => typeof r === "object" && "text" in r;
const isError = (r: FakeReply): r is FakeError => typeof r === "object" && "status" in r && !("malformed" in r);

/** Start the server on 127.0.0.1 (a free port unless one is given). */
export async function startFakeModelServer(opts: FakeServerOptions = {}): Promise<FakeServer> {
  const requests: FakeRequest[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  let index = 0;
  const modelName = opts.modelName ?? "fake-model";

  const state = {
    respond: opts.respond ?? (() => "ok"),
    latencyMs: opts.latencyMs ?? 0,
  };

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      let done = false;
      const end = () => {
        if (!done) {
          done = true;
          inFlight--;
        }
      };
      res.on("close", end);
      void handle(req, res, Buffer.concat(chunks).toString("utf8")).catch((e: unknown) => {
        if (!res.headersSent) {
          res.writeHead(500, { "content-type": "application/json" });
          res.end(JSON.stringify({ error: { message: `fake server: ${(e as Error).message}` } }));
        }
      });
    });
  });
  server.keepAliveTimeout = 65_000;

  async function handle(req: http.IncomingMessage, res: http.ServerResponse, raw: string): Promise<void> {
    const path = (req.url ?? "/").split("?")[0]!;
    let body: any;
    try {
      body = JSON.parse(raw);
    } catch {
      body = undefined;
    }
    const api: FakeApi = path.endsWith("/chat/completions")
      ? "chat"
      : path.endsWith("/messages")
        ? "messages"
        : path.endsWith("/embeddings")
          ? "embeddings"
          : "other";
    const messages: { role: string; content: string }[] = [];
    if (api === "messages" && body?.system !== undefined) messages.push({ role: "system", content: contentOf(body.system) });
    if ((api === "chat" || api === "messages") && Array.isArray(body?.messages)) {
      for (const m of body.messages) messages.push({ role: String(m?.role), content: contentOf(m?.content) });
    }
    const fr: FakeRequest = {
      api,
      path,
      headers: req.headers,
      body,
      index: index++,
      messages,
      prompt: messages.map((m) => m.content).join("\n\n"),
      ...(typeof body?.model === "string" ? { model: body.model } : {}),
    };
    requests.push(fr);

    if (req.method === "GET" && path.endsWith("/models")) {
      return json(res, 200, { object: "list", data: [{ id: modelName, object: "model" }] });
    }
    if (api === "other" || req.method !== "POST") return json(res, 404, { error: { message: `fake server: no route ${req.method} ${path}` } });
    if (body === undefined) return json(res, 400, { error: { message: "fake server: the body is not JSON" } });

    const reply = await state.respond(fr);
    const latency = typeof state.latencyMs === "function" ? state.latencyMs(fr) : state.latencyMs;
    const extra = typeof reply === "object" && "delayMs" in reply && typeof reply.delayMs === "number" ? reply.delayMs : 0;
    if (typeof reply === "object" && "hang" in reply) return; // left open on purpose
    if (latency + extra > 0) await new Promise((r) => setTimeout(r, latency + extra));
    if (res.destroyed) return;

    if (typeof reply === "object" && "drop" in reply) {
      req.socket.destroy();
      return;
    }
    if (typeof reply === "object" && "malformed" in reply) {
      res.writeHead(reply.status ?? 200, { "content-type": "application/json" });
      res.end(reply.malformed);
      return;
    }
    if (isError(reply)) {
      const headers: Record<string, string> = {};
      if (reply.retryAfter !== undefined) headers["retry-after"] = String(reply.retryAfter);
      if (reply.retryAfterMs !== undefined) headers["retry-after-ms"] = String(reply.retryAfterMs);
      const message = reply.message ?? `fake server error ${reply.status}`;
      const errBody = api === "messages" ? { type: "error", error: { type: "api_error", message } } : { error: { message, type: "fake_error", code: reply.status } };
      return json(res, reply.status, errBody, headers);
    }
    const model = fr.model ?? modelName;
    if (api === "embeddings") {
      const inputs: string[] = Array.isArray(body.input) ? body.input.map(String) : [String(body.input ?? "")];
      const vectors = typeof reply === "object" && "embeddings" in reply ? reply.embeddings : inputs.map((s) => fakeEmbedding(s, body.dimensions ?? 8));
      const tokens = inputs.reduce((n, s) => n + estimateTokens(s), 0);
      return json(res, 200, {
        object: "list",
        model,
        data: vectors.map((embedding, i) => ({ object: "embedding", index: i, embedding })),
        usage: { prompt_tokens: tokens, total_tokens: tokens },
      });
    }
    const answer: FakeAnswer = typeof reply === "string" ? { text: reply } : isAnswer(reply) ? reply : { text: "" };
    const usage = answer.usage ?? { inputTokens: estimateTokens(fr.prompt), outputTokens: estimateTokens(answer.text) };
    if (api === "messages") {
      return json(res, 200, {
        id: `msg_fake_${fr.index}`,
        type: "message",
        role: "assistant",
        model,
        content: [{ type: "text", text: answer.text }],
        stop_reason: answer.finishReason ?? "end_turn",
        usage: { input_tokens: usage.inputTokens, output_tokens: usage.outputTokens },
      });
    }
    const wantLogprobs = body.logprobs === true || typeof body.top_logprobs === "number";
    const topN = typeof body.top_logprobs === "number" ? body.top_logprobs : 0;
    const choice: Record<string, unknown> = {
      index: 0,
      message: { role: "assistant", content: answer.text },
      finish_reason: answer.finishReason ?? "stop",
      logprobs: wantLogprobs ? { content: tokensOf(answer, topN).map((t) => ({ token: t.token, logprob: t.logprob, top_logprobs: t.top ?? [] })) } : null,
    };
    return json(res, 200, {
      id: `chatcmpl-fake-${fr.index}`,
      object: "chat.completion",
      created: 0,
      model,
      choices: [choice],
      usage: { prompt_tokens: usage.inputTokens, completion_tokens: usage.outputTokens, total_tokens: usage.inputTokens + usage.outputTokens },
    });
  }

  function json(res: http.ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
    const text = JSON.stringify(body);
    res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
    res.end(text);
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? 0, opts.host ?? "127.0.0.1", () => resolve());
  });
  const addr = server.address() as AddressInfo;
  const url = `http://${opts.host ?? "127.0.0.1"}:${addr.port}`;

  return {
    url,
    baseUrl: `${url}/v1`,
    requests,
    get inFlight() {
      return inFlight;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    get respond() {
      return state.respond;
    },
    set respond(r: Responder) {
      state.respond = r;
    },
    get latencyMs() {
      return state.latencyMs;
    },
    set latencyMs(l: number | ((req: FakeRequest) => number)) {
      state.latencyMs = l;
    },
    reset() {
      requests.length = 0;
      maxInFlight = inFlight;
    },
    close() {
      return new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}

/** A responder that answers with `replies` in turn (per request, across all prompts), repeating the last. */
export function inTurn(...replies: FakeReply[]): Responder {
  let i = 0;
  return () => replies[Math.min(i++, replies.length - 1)]!;
}

/**
 * A responder that answers each distinct prompt with `replies` in turn: the
 * first time a prompt is seen, `replies[0]`; the second time, `replies[1]`...
 */
export function perPrompt(...replies: FakeReply[]): Responder {
  const seen = new Map<string, number>();
  return (r) => {
    const n = seen.get(r.prompt) ?? 0;
    seen.set(r.prompt, n + 1);
    return replies[Math.min(n, replies.length - 1)]!;
  };
}

/** Which of two texts appears first in the prompt: 1 or 2 (0 when neither does). */
export function shownFirst(req: FakeRequest, a: string, b: string): 0 | 1 | 2 {
  const i = req.prompt.indexOf(a);
  const j = req.prompt.indexOf(b);
  if (i < 0 && j < 0) return 0;
  if (j < 0 || (i >= 0 && i < j)) return 1;
  return 2;
}
