/**
 * Serving an app on a socket, with a graceful close: stop accepting, let
 * in-flight requests finish (answering them with `Connection: close`), close
 * idle keep-alive connections, and cut what is left after a deadline.
 */
import { type IncomingMessage, type Server, type ServerResponse, createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { getRequestListener } from "@hono/node-server";

export interface ListenOptions {
  /** Default 8787; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** How long `close()` waits for in-flight requests before cutting them (default 10 s). */
  shutdownTimeoutMs?: number;
  /** Where errors outside the app (a broken socket) are logged. */
  log?: (line: string) => void;
}

export interface RunningServer {
  /** e.g. http://127.0.0.1:8787 */
  readonly url: string;
  readonly port: number;
  readonly host: string;
  readonly server: Server;
  /** Requests being handled now. */
  inFlight(): number;
  /** Stop accepting, finish in-flight requests (up to the deadline), close every connection. Idempotent. */
  close(): Promise<void>;
}

export const DEFAULT_PORT = 8787;
export const DEFAULT_HOST = "127.0.0.1";

export function listen(app: { fetch: (req: Request) => Response | Promise<Response> }, opts: ListenOptions = {}): Promise<RunningServer> {
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const handler = getRequestListener((req) => app.fetch(req), {
    errorHandler: (e) => {
      log(`request failed outside the app: ${(e as Error)?.stack ?? String(e)}`);
      return new Response(JSON.stringify({ error: { code: "internal_error", message: "internal error" } }), {
        status: 500,
        headers: { "Content-Type": "application/json" },
      });
    },
  });
  let active = 0;
  let closing = false;
  const drained: Array<() => void> = [];
  const done = () => {
    active--;
    if (active === 0) for (const f of drained.splice(0)) f();
  };

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    active++;
    res.once("close", done);
    if (closing) res.setHeader("Connection", "close");
    void handler(req, res);
  });
  server.requestTimeout = 120_000;
  server.headersTimeout = 30_000;
  server.keepAliveTimeout = 5_000;
  server.on("clientError", (_err, socket) => {
    if (socket.writable) socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\nContent-Length: 0\r\n\r\n");
    else socket.destroy();
  });

  return new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(opts.port ?? DEFAULT_PORT, opts.host ?? DEFAULT_HOST, () => {
      server.off("error", reject);
      const addr = server.address() as AddressInfo;
      const host = addr.family === "IPv6" ? `[${addr.address}]` : addr.address;
      let closed: Promise<void> | undefined;
      resolve({
        url: `http://${host}:${addr.port}`,
        port: addr.port,
        host: addr.address,
        server,
        inFlight: () => active,
        close() {
          closed ??= new Promise<void>((res) => {
            closing = true;
            let finished = false;
            const timer = setTimeout(() => {
              log(`shutdown: ${active} request(s) still running after ${opts.shutdownTimeoutMs ?? 10_000} ms; closing their connections`);
              server.closeAllConnections();
            }, opts.shutdownTimeoutMs ?? 10_000);
            // Keep-alive connections that finish a response become idle: close them as they do.
            const sweep = setInterval(() => server.closeIdleConnections(), 50);
            const finish = () => {
              if (finished) return;
              finished = true;
              clearTimeout(timer);
              clearInterval(sweep);
              res();
            };
            server.close(() => finish());
            server.closeIdleConnections();
            if (active === 0) server.closeIdleConnections();
            else drained.push(() => server.closeIdleConnections());
          });
          return closed;
        },
      });
    });
  });
}
