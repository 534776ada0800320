/**
 * One JSON POST over node:http / node:https with keep-alive connections and a
 * per-request timeout covering the whole exchange (connect, send, wait, read).
 */
import http from "node:http";
import https from "node:https";
import { ProviderError } from "./errors.js";

export interface HttpResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

export interface PostOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

const RETRYABLE_NETWORK = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "EAI_AGAIN",
  "ENETUNREACH",
  "EHOSTUNREACH",
  "UND_ERR_SOCKET",
]);

/** Keep-alive agents for one model; `destroy()` closes their idle connections. */
export class Agents {
  readonly http = new http.Agent({ keepAlive: true, maxSockets: Infinity });
  readonly https = new https.Agent({ keepAlive: true, maxSockets: Infinity });
  destroy(): void {
    this.http.destroy();
    this.https.destroy();
  }
}

export function postJson(
  agents: Agents,
  url: URL,
  body: string,
  headers: Record<string, string>,
  opts: PostOptions = {},
): Promise<HttpResponse> {
  const secure = url.protocol === "https:";
  if (!secure && url.protocol !== "http:") {
    return Promise.reject(new ProviderError("config", `unsupported URL scheme in ${url.origin} (use http:// or https://)`));
  }
  const lib = secure ? https : http;
  const base = optionsOf(url);
  return new Promise<HttpResponse>((resolve, reject) => {
    let settled = false;
    let timer: NodeJS.Timeout | undefined;
    const finish = (err: Error | undefined, res?: HttpResponse) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      opts.signal?.removeEventListener("abort", onAbort);
      if (err) reject(err);
      else resolve(res!);
    };
    const req = lib.request(
      {
        ...base,
        agent: secure ? agents.https : agents.http,
        headers: { "content-type": "application/json", accept: "application/json", "content-length": Buffer.byteLength(body), ...headers },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => finish(undefined, { status: res.statusCode ?? 0, headers: res.headers, text: Buffer.concat(chunks).toString("utf8") }));
        res.on("error", (e) => finish(networkError(e, url)));
        res.on("aborted", () => finish(networkError(Object.assign(new Error("response aborted"), { code: "ECONNRESET" }), url)));
      },
    );
    const onAbort = () => {
      req.destroy();
      finish(new ProviderError("network", `request to ${url.origin} was aborted`, { retryable: false }));
    };
    if (opts.signal) {
      if (opts.signal.aborted) return onAbort();
      opts.signal.addEventListener("abort", onAbort, { once: true });
    }
    if (opts.timeoutMs !== undefined && opts.timeoutMs > 0) {
      timer = setTimeout(() => {
        req.destroy();
        finish(new ProviderError("timeout", `no complete answer from ${url.origin} within ${opts.timeoutMs} ms`, { retryable: true }));
      }, opts.timeoutMs);
    }
    req.on("error", (e) => finish(networkError(e, url)));
    req.end(body);
  });
}

const optionsCache = new WeakMap<URL, http.RequestOptions>();

/** Request options of a URL, computed once per URL object (callers keep theirs). */
function optionsOf(url: URL): http.RequestOptions {
  let o = optionsCache.get(url);
  if (!o) {
    o = {
      method: "POST",
      protocol: url.protocol,
      hostname: url.hostname.startsWith("[") ? url.hostname.slice(1, -1) : url.hostname,
      port: url.port || (url.protocol === "https:" ? 443 : 80),
      path: `${url.pathname}${url.search}`,
      ...(url.username || url.password ? { auth: `${decodeURIComponent(url.username)}:${decodeURIComponent(url.password)}` } : {}),
    };
    optionsCache.set(url, o);
  }
  return o;
}

function networkError(e: Error, url: URL): ProviderError {
  const code = (e as NodeJS.ErrnoException).code;
  const retryable = code === undefined || RETRYABLE_NETWORK.has(code) || /socket hang up/i.test(e.message);
  return new ProviderError("network", `cannot reach ${url.origin}: ${e.message}${code && !e.message.includes(code) ? ` (${code})` : ""}`, {
    retryable,
    cause: e,
  });
}

/**
 * `Retry-After` (seconds or an HTTP date) or OpenAI's `retry-after-ms`, in
 * milliseconds from `now`; undefined when absent or unreadable.
 */
export function retryAfterMs(headers: http.IncomingHttpHeaders, now = Date.now()): number | undefined {
  const ms = headers["retry-after-ms"];
  if (typeof ms === "string" && ms.trim() !== "" && Number.isFinite(Number(ms))) return Math.max(0, Number(ms));
  const ra = headers["retry-after"];
  if (typeof ra !== "string" || ra.trim() === "") return undefined;
  if (/^\s*\d+(\.\d+)?\s*$/.test(ra)) return Math.max(0, Number(ra) * 1000);
  const at = Date.parse(ra);
  return Number.isFinite(at) ? Math.max(0, at - now) : undefined;
}
