/**
 * Python runs through a fork server: a trusted interpreter started once per concurrent slot in its
 * own bubblewrap sandbox (`zygote-py.ts`), from which each run forks its own sandbox, so that a
 * run costs a fork and a few namespaces instead of an interpreter's start-up plus bubblewrap,
 * setpriv and prlimit. What a run gets is the same as a fresh sandbox's: its own mount, pid,
 * network, IPC and UTS namespaces, a fresh capped tmpfs for every writable place, its inputs
 * read-only, a fresh `/proc`, its limits (CPU, address space, processes, file size, open files,
 * no core), no capability, no_new_privs and the same seccomp filter, before any of its code runs.
 * The server never reads a request itself (each run's first process does), so no run's program,
 * inputs or output is in the memory a later run is forked from.
 *
 * Limits per sandbox hold per run: the server's control group (one per server, one run at a time)
 * gets the run's memory and process limits before the run (its own few MiB and processes added),
 * its peak is started over, and its OOM kills are counted per run; the wall clock, output caps and
 * file count are watched here as for a fresh sandbox, and a kill ends the run's namespace (its
 * init), never the server. A server that dies (the OOM killer chose it) is replaced.
 *
 * `RLXF_SANDBOX_FORK=0` turns the fork server off (every run starts a fresh interpreter).
 */
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync, readdirSync } from "node:fs";
import type { Cgroup } from "./cgroup.js";
import { seccompFilter } from "./seccomp.js";
import {
  CHANNEL_BYTES,
  type LimitHit,
  SANDBOX_ENV,
  type SandboxInfo,
  type SandboxLimits,
  type SandboxRunOptions,
  type SandboxRunResult,
  bwrapBase,
  cgroupBackend,
  decodeExit,
  launcherArgv,
  limitFromOutput,
  watchRun,
} from "./sandbox.js";
import { ZYGOTE_PY } from "./zygote-py.js";

/** A server is replaced after this many runs, and stopped after this long idle. */
const MAX_RUNS = 5000;
const IDLE_MS = 30_000;
/** A server that has not said it is ready after this long is not used. */
const START_MS = 20_000;
/** The end marker: `\0rlxf-end:`, 32 hex digits, `\0`. */
const MARK_LEN = "\0rlxf-end:".length + 32 + 1;

export function forkServerEnabled(info: SandboxInfo): boolean {
  return !disabled.has(info.python ?? "") && process.env.RLXF_SANDBOX_FORK !== "0" && info.mode !== "root-userns" && info.python !== undefined && (process.arch === "x64" || process.arch === "arm64");
}

/** Interpreters whose fork server could not start here: their runs start fresh interpreters. */
const disabled = new Set<string>();
/** Turns the fork server off for this interpreter, saying why in the sandbox's warnings. */
function disable(info: SandboxInfo, why: string): void {
  disabled.add(info.python ?? "");
  info.warnings.push(`Python runs start a fresh sandbox each: the fork server could not run here (${why})`);
}

/** Host pids of a process's children. */
function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    // without CONFIG_PROC_CHILDREN: every process's parent
    const out: number[] = [];
    for (const d of readdirSync("/proc")) {
      if (d.charCodeAt(0) < 48 || d.charCodeAt(0) > 57) continue;
      try {
        const stat = readFileSync(`/proc/${d}/stat`, "utf8");
        if (Number(stat.slice(stat.lastIndexOf(")") + 4).split(" ")[0]) === pid) out.push(Number(d));
      } catch {
        /* gone */
      }
    }
    return out;
  }
}

interface Stream {
  kept: Buffer[];
  keptBytes: number;
  cap: number;
  total: number;
  tail: Buffer;
}

const newStream = (cap: number): Stream => ({ kept: [], keptBytes: 0, cap: cap + MARK_LEN, total: 0, tail: Buffer.alloc(0) });

function push(s: Stream, b: Buffer): void {
  s.total += b.length;
  s.tail = b.length >= MARK_LEN ? Buffer.from(b.subarray(b.length - MARK_LEN)) : Buffer.concat([s.tail, b]).subarray(-MARK_LEN);
  const room = s.cap - s.keptBytes;
  if (room <= 0) return;
  const part = b.length > room ? b.subarray(0, room) : b;
  s.kept.push(part);
  s.keptBytes += part.length;
}

/** The program's bytes of a stream (the end marker cut off, where the server wrote one), at most `max`. */
const programBytes = (s: Stream, max: number, marked: boolean) => Buffer.concat(s.kept).subarray(0, Math.max(0, Math.min(max, s.total - (marked ? MARK_LEN : 0))));

interface Current {
  streams: [Stream, Stream, Stream];
  end?: { code: number; mark: Buffer };
  check: () => void;
  finish: (lost?: boolean) => void;
}

class ForkServer {
  readonly child: ChildProcess;
  readonly group: Cgroup | undefined;
  dead = false;
  runs = 0;
  readonly python: string | undefined;
  own = new Set<number>();
  serverPid: number | undefined;
  idle?: NodeJS.Timeout;
  current: Current | undefined;
  private status = "";
  private readyWaiters: Array<(ok: boolean) => void> = [];
  private isReady = false;

  constructor(
    readonly info: SandboxInfo,
    readonly noNewProcesses: boolean,
  ) {
    this.python = info.python;
    const backend = cgroupBackend();
    this.group = backend?.create({ memoryBytes: 64 * 1024 * 1024, processes: 16 });
    const bwrap = [
      ...bwrapBase(info),
      "--cap-add", "CAP_SYS_ADMIN",
      "--dir", "/sandbox",
      "--symlink", "/sandbox/tmp", "/tmp",
      "--symlink", "/sandbox/.shm", "/dev/shm",
      "--dir", "/input",
      "--remount-ro", "/",
      "--chdir", "/",
      "--clearenv",
      ...Object.entries(SANDBOX_ENV).flatMap(([k, v]) => ["--setenv", k, v]),
      "--",
      info.python!, "-I", "-B", "-c", ZYGOTE_PY,
    ];
    // fds: 0 requests, 1-2 stdio, 3 the result channel, 4 the server's status, 5 the seccomp program.
    const argv = launcherArgv(info, 5, this.group?.procsFiles ?? [], bwrap);
    this.child = spawn(argv[0]!, argv.slice(1), { stdio: ["pipe", "pipe", "pipe", "pipe", "pipe", "pipe"], detached: true, env: {} });
    const pipes = this.child.stdio as unknown as Array<NodeJS.ReadableStream & NodeJS.WritableStream & { ref?: () => void; unref?: () => void }>;
    for (const s of pipes) (s as unknown as NodeJS.EventEmitter | null)?.on("error", () => {});
    pipes[5]!.end(seccompFilter({ noNewProcesses }));
    for (const fd of [1, 2, 3] as const) pipes[fd]!.on("data", (b: Buffer) => this.onData(fd, b));
    pipes[4]!.on("data", (b: Buffer) => this.onStatus(b.toString("utf8")));
    this.child.on("error", () => this.onExit());
    this.child.on("close", () => this.onExit());
  }

  /** Resolves true once the server runs, false if it could not start. */
  ready(): Promise<boolean> {
    if (this.isReady) return Promise.resolve(true);
    if (this.dead) return Promise.resolve(false);
    return new Promise((resolve) => this.readyWaiters.push(resolve));
  }

  private onStatus(text: string): void {
    this.status += text;
    let nl: number;
    while ((nl = this.status.indexOf("\n")) >= 0) {
      const line = this.status.slice(0, nl);
      this.status = this.status.slice(nl + 1);
      if (line === "ready") {
        this.isReady = true;
        // bubblewrap's monitor, its init, the server: never killed with a run
        const monitor = this.child.pid!;
        this.own.add(monitor);
        for (const init of childrenOf(monitor)) {
          this.own.add(init);
          for (const server of childrenOf(init)) {
            this.own.add(server);
            this.serverPid = server;
          }
        }
        for (const w of this.readyWaiters.splice(0)) w(true);
        continue;
      }
      const m = /^end (\d+) ([0-9a-f]{32})$/.exec(line);
      if (m && this.current) {
        this.current.end = { code: Number(m[1]), mark: Buffer.from(`\0rlxf-end:${m[2]}\0`) };
        this.current.check();
      }
    }
  }

  private onData(fd: 1 | 2 | 3, b: Buffer): void {
    const c = this.current;
    if (!c) return;
    push(c.streams[fd - 1]!, b);
    c.check();
  }

  private onExit(): void {
    if (this.dead) return;
    this.dead = true;
    for (const w of this.readyWaiters.splice(0)) w(false);
    this.current?.finish(true);
    this.stop();
  }

  /** The current run's first process (the server's one child). */
  runner(): number | undefined {
    return this.serverPid === undefined ? undefined : childrenOf(this.serverPid)[0];
  }

  /** The run's init (pid 1 of its namespace), through which its files are seen. */
  runInit(): number | undefined {
    const runner = this.runner();
    return runner === undefined ? undefined : childrenOf(runner)[0];
  }

  setRefs(on: boolean): void {
    const pipes = this.child.stdio as unknown as Array<{ ref?: () => void; unref?: () => void; destroyed?: boolean } | null>;
    for (const p of pipes.slice(0, 5)) if (p && !p.destroyed) (on ? p.ref : p.unref)?.call(p);
    if (on) this.child.ref();
    else this.child.unref();
  }

  stop(): void {
    this.dead = true;
    if (this.idle) clearTimeout(this.idle);
    // a run still on it ends as killed (its processes die with the server)
    this.current?.finish(true);
    for (const w of this.readyWaiters.splice(0)) w(false);
    try {
      if (this.child.pid !== undefined) process.kill(-this.child.pid, "SIGKILL");
    } catch {
      /* gone */
    }
    this.setRefs(false);
    const group = this.group;
    if (group) {
      let tries = 0;
      const remove = () => {
        try {
          for (const p of group.pids()) process.kill(p, "SIGKILL");
          group.remove();
        } catch {
          if (++tries < 50) setTimeout(remove, 100).unref();
        }
      };
      remove();
    }
  }
}

const pool: ForkServer[] = [];
const counts = { started: 0, runs: 0 };

/** Fork servers started and runs through them in this thread, and how many wait idle now. */
export function forkServerStats(): { started: number; runs: number; idle: number } {
  return { ...counts, idle: pool.filter((s) => !s.dead).length };
}

async function take(info: SandboxInfo, noNewProcesses: boolean): Promise<ForkServer> {
  while (pool.length) {
    const s = pool.pop()!;
    if (s.idle) clearTimeout(s.idle);
    if (!s.dead && s.noNewProcesses === noNewProcesses && s.python === info.python) {
      s.setRefs(true);
      return s;
    }
    s.stop();
  }
  const s = new ForkServer(info, noNewProcesses);
  counts.started++;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), START_MS);
  });
  const started = await Promise.race([s.ready(), late]);
  clearTimeout(timer);
  if (!started) {
    s.stop();
    throw new Error("the fork server did not start");
  }
  return s;
}

function giveBack(s: ForkServer): void {
  if (s.dead || s.runs >= MAX_RUNS) return s.stop();
  s.setRefs(false);
  s.idle = setTimeout(() => {
    const i = pool.indexOf(s);
    if (i >= 0) pool.splice(i, 1);
    s.stop();
  }, IDLE_MS);
  s.idle.unref();
  pool.push(s);
}

process.on("exit", () => {
  for (const s of pool) {
    try {
      if (s.child.pid !== undefined) process.kill(-s.child.pid, "SIGKILL");
    } catch {
      /* gone */
    }
  }
});

/**
 * Runs one Python program through a fork server. Returns undefined when no server could start
 * here (the caller then starts a fresh sandbox, and later runs do too).
 */
export async function runForked(info: SandboxInfo, limits: SandboxLimits, opts: SandboxRunOptions): Promise<SandboxRunResult | undefined> {
  const noNewProcesses = info.memory === "single-process";
  let server: ForkServer;
  try {
    server = await take(info, noNewProcesses);
  } catch (e) {
    disable(info, (e as Error).message);
    return undefined;
  }
  let r: SandboxRunResult;
  try {
    r = await runOn(server, info, limits, opts);
  } catch {
    // the server's group refused the run's limits: this run starts fresh, the server is replaced
    server.stop();
    return undefined;
  }
  // A run whose namespaces could not be made says so on stderr and exits 125: this kernel does not allow it.
  if (r.exitCode === 125 && r.channel === "" && /^rlxf-sandbox: /m.test(r.stderr) && server.runs === 1) {
    disable(info, r.stderr.trim().split("\n")[0] ?? "");
    server.stop();
    return undefined;
  }
  giveBack(server);
  return r;
}

function runOn(server: ForkServer, info: SandboxInfo, limits: SandboxLimits, opts: SandboxRunOptions): Promise<SandboxRunResult> {
  server.runs++;
  counts.runs++;
  const group = server.group;
  // The server's own memory and processes, then the run's limits on top.
  let base = 0;
  let peakReset = false;
  let oomBefore = 0;
  let cpuBefore: number | undefined;
  const nproc = limits.processes;
  if (group) {
    base = group.usage();
    cpuBefore = group.cpuMicros();
    group.setLimits({ memoryBytes: base + limits.memoryBytes + limits.diskBytes, processes: server.own.size + nproc + 2 });
    peakReset = group.resetPeak();
    oomBefore = group.stats().oomKills;
  }
  const request = JSON.stringify({
    inputs: opts.inputs,
    args: opts.args,
    stdin: opts.stdin ?? "",
    env: SANDBOX_ENV,
    // the run's processes besides the server's four (server, bubblewrap's init, the run's first process and init)
    limits: { cpu: limits.cpuSeconds, as: limits.memoryBytes, nproc: nproc + 4, fsize: limits.fileBytes, nofile: limits.openFiles, disk: limits.diskBytes, files: limits.diskFiles },
  });
  const body = Buffer.from(request, "utf8");
  const started = performance.now();
  return new Promise((resolve) => {
    let limit: LimitHit | undefined;
    let killed = false;
    let lost = false;
    let init: number | undefined;
    const kill = (why?: LimitHit) => {
      if (why && !limit) limit = why;
      killed = true;
      // The run's init: its namespace ends with it, and its parent reports the end only once every process
      // in it is gone. Before the init exists, the run's first process (the init would die with it).
      const target = server.runInit() ?? server.runner();
      if (target !== undefined) {
        try {
          process.kill(target, "SIGKILL");
        } catch {
          /* gone */
        }
      }
      // A run that is not over soon after (its processes could not be found, or the server does not answer)
      // ends with its server: the run counts as killed, the next run gets a new server.
      escalate ??= setTimeout(() => {
        if (server.current === current) server.stop();
      }, 3000);
      escalate.unref();
    };
    let escalate: NodeJS.Timeout | undefined;
    // The server is idle during a run: what its group's CPU time grows by is the run's.
    const cpuUsed = group && cpuBefore !== undefined ? () => (group.cpuMicros() ?? cpuBefore!) - cpuBefore! : undefined;
    const unwatch = watchRun(limits, opts.signal, () => (init ??= server.runInit()), kill, cpuUsed);
    const streams: [Stream, Stream, Stream] = [newStream(limits.outputBytes), newStream(limits.outputBytes), newStream(CHANNEL_BYTES)];
    const current: Current = {
      streams,
      check() {
        const [out, err, chan] = streams;
        if (!killed && out.total + err.total > limits.outputBytes + 2 * MARK_LEN) kill("output");
        if (!killed && chan.total > CHANNEL_BYTES + MARK_LEN) kill("output");
        const end = current.end;
        if (end && streams.every((s) => s.tail.equals(end.mark))) current.finish();
      },
      finish(serverLost = false) {
        if (server.current !== current) return;
        server.current = undefined;
        if (escalate) clearTimeout(escalate);
        lost = serverLost;
        unwatch();
        const [out, err, chan] = streams;
        const mark = lost ? 0 : MARK_LEN;
        const outBytes = programBytes(out, limits.outputBytes, !lost);
        const errBytes = programBytes(err, limits.outputBytes - outBytes.length, !lost);
        const outTotal = Math.max(0, out.total - mark) + Math.max(0, err.total - mark);
        let outputTruncated = outTotal > limits.outputBytes;
        const chanTotal = Math.max(0, chan.total - mark);
        if (chanTotal > CHANNEL_BYTES) outputTruncated = true;
        if (outputTruncated && !limit) limit = "output";
        let memoryPeakBytes: number | undefined;
        if (group) {
          const st = group.stats();
          if (st.oomKills > oomBefore && !limit) limit = "memory";
          if (peakReset && st.peakBytes !== undefined) memoryPeakBytes = Math.max(0, st.peakBytes - base);
        }
        const { exitCode, signal } = lost ? { exitCode: null, signal: "SIGKILL" } : decodeExit(current.end!.code);
        const stderr = errBytes.toString("utf8");
        limit ??= limitFromOutput(signal, stderr);
        const r: SandboxRunResult = {
          exitCode,
          signal,
          stdout: outBytes.toString("utf8"),
          stderr,
          channel: programBytes(chan, CHANNEL_BYTES, !lost).toString("utf8"),
          outputTruncated,
          wallMs: performance.now() - started,
          isolation: { memory: info.memory, seccomp: true, nestedUserns: info.disableUserns ? "disabled" : "seccomp-only", start: "forked", cpu: cpuUsed ? "sandbox" : "process" },
        };
        if (limit) r.limit = limit;
        if (memoryPeakBytes !== undefined) r.memoryPeakBytes = memoryPeakBytes;
        resolve(r);
      },
    };
    server.current = current;
    if (server.dead) return current.finish(true);
    const stdin = server.child.stdin!;
    stdin.write(`${body.length}\n`);
    stdin.write(body);
  });
}
