/**
 * Running untrusted programs in a real sandbox: bubblewrap (Debian's `bubblewrap` package)
 * for isolation, a seccomp filter, a control group per sandbox, util-linux `prlimit` for
 * per-process limits and `setpriv` to drop root.
 *
 * Isolation: every namespace unshared (user, mount, pid, network, ipc, uts, cgroup), so no
 * network but a private loopback and no view of the host's processes; no further user
 * namespaces (`--disable-userns`, and the seccomp filter refuses `unshare`, `setns` and `clone`
 * with namespace flags); the seccomp filter also refuses ptrace, mounts, bpf, the keyring,
 * perf_event_open, io_uring and more (`seccomp.ts`). The file system: read-only `/usr` (and the
 * `/bin`, `/lib*` links into it), a few files of `/etc`, fresh `/proc`, the null/zero/random
 * devices, the run's inputs read-only at `/input` (copied in through pipes: nothing of the run
 * is on the host's disk), and one writable tmpfs at `/sandbox` with a size cap, which `/tmp`
 * and `/dev/shm` link into; the root (and `/dev`) is remounted read-only. Every byte the
 * program can store, unlinked-but-open files included, is in that capped tmpfs. The environment
 * is cleared; file descriptors the caller left open are closed before bubblewrap starts.
 * `--die-with-parent` and a new session: the sandbox dies with its parent and cannot reach the
 * caller's terminal.
 *
 * Limits per sandbox: memory of all its processes together (its files included) and the number
 * of its processes, through a control group made for the run (`cgroup.ts`), where one can be
 * made; elsewhere the seccomp filter keeps the sandbox to one process, so that the per-process
 * limit is the sandbox's. Per process: CPU seconds (SIGXCPU), address space (Python) or data
 * segment (Node.js, whose V8 reserves address space up front), RLIMIT_NPROC, file size, open
 * files, no core dumps. Wall-clock time (the whole sandbox is killed), output size (stdout and
 * stderr counted while they are read), files in the tmpfs (polled). At most
 * `maxConcurrent` sandboxes run at once in this process; the rest wait in line.
 *
 * Ceilings: `configureSandbox({ ceilings })` sets the most any caller may ask for (defaults: the
 * default limits; `RLXF_SANDBOX_CEILINGS` or `rlxf serve --sandbox-ceilings` raise them). A
 * request above a ceiling is a ValidationError naming the field.
 */
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync, realpathSync, statfsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { dirname } from "node:path";
import { MessageChannel, type MessagePort, threadId } from "node:worker_threads";
import { RlxfError, ValidationError } from "../../../errors.js";
import { type Cgroup, type CgroupBackend, type CgroupKind, detectCgroups, killThreadSandboxes } from "./cgroup.js";
import { seccompFilter } from "./seccomp.js";
import { forkServerEnabled, runForked } from "./zygote.js";

export type Language = "python" | "javascript";

export interface SandboxLimits {
  /** Wall-clock time before the whole sandbox is killed (default 10 s). */
  wallMs: number;
  /**
   * CPU seconds (default 5): of all the sandbox's processes together where its control group accounts CPU time
   * (`isolation.cpu: "sandbox"`), and of each process in any case (RLIMIT_CPU).
   */
  cpuSeconds: number;
  /**
   * Memory (default 512 MiB): of all the sandbox's processes together where a control group can
   * be made; each process's address space (Python) or data segment (JavaScript) also stays under it.
   */
  memoryBytes: number;
  /** Processes and threads inside the sandbox (default 32; JavaScript gets at least 64 for V8's threads). */
  processes: number;
  /** stdout + stderr bytes kept before the sandbox is killed (default 1 MiB). */
  outputBytes: number;
  /** Largest file the program may write (default 16 MiB). */
  fileBytes: number;
  /** Size of the writable tmpfs (`/sandbox`, `/tmp`, `/dev/shm`), default 64 MiB. */
  diskBytes: number;
  /** Files in the writable tmpfs before the sandbox is killed (default 4096). */
  diskFiles: number;
  /** Open file descriptors (default 64). */
  openFiles: number;
}

export const DEFAULT_LIMITS: SandboxLimits = {
  wallMs: 10_000,
  cpuSeconds: 5,
  memoryBytes: 512 * 1024 * 1024,
  processes: 32,
  outputBytes: 1024 * 1024,
  fileBytes: 16 * 1024 * 1024,
  diskBytes: 64 * 1024 * 1024,
  diskFiles: 4096,
  openFiles: 64,
};

const LIMIT_KEYS = Object.keys(DEFAULT_LIMITS) as Array<keyof SandboxLimits>;

/** Which limit ended a run. */
export type LimitHit = "wall" | "cpu" | "memory" | "output" | "processes" | "disk";

export interface SandboxRunOptions {
  language: Language;
  /** Files put read-only at `/input/<name>` (the program, its tests, the harness). */
  inputs: Record<string, string>;
  /** Interpreter arguments, e.g. `["/input/harness.py"]`. */
  args: string[];
  /** Bytes written to the program's stdin (then closed). */
  stdin?: string;
  limits?: Partial<SandboxLimits>;
  signal?: AbortSignal;
}

/** How a run was contained, for results to report. */
export interface SandboxIsolation {
  /** How memory and processes were limited for the sandbox as a whole. */
  memory: CgroupKind | "single-process";
  seccomp: boolean;
  /** Whether bubblewrap's `--disable-userns` held (the seccomp filter refuses new namespaces either way). */
  nestedUserns: "disabled" | "seccomp-only";
  /**
   * `fresh`: a new interpreter in a new bubblewrap sandbox; `forked`: forked, with its own new
   * namespaces and file systems, from an interpreter that never ran a program (`zygote.ts`).
   */
  start: "fresh" | "forked";
  /** `sandbox`: `cpuSeconds` held for all the run's processes together (its control group); `process`: per process only. */
  cpu: "sandbox" | "process";
}

export interface SandboxRunResult {
  /** Exit code of the interpreter; for a signal, null with `signal` set. */
  exitCode: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  /** What the program wrote to fd 3 (the harness's result channel). */
  channel: string;
  /** The limit that ended the run, if one did. */
  limit?: LimitHit;
  outputTruncated: boolean;
  wallMs: number;
  /** Peak memory of the whole sandbox, where a control group measured it. */
  memoryPeakBytes?: number;
  isolation: SandboxIsolation;
}

export interface SandboxInfo {
  bwrap: string;
  prlimit: string;
  /** The launcher that enters the control group and closes inherited file descriptors. */
  bash: string;
  /**
   * How the sandbox starts: `setpriv` (the caller is root: drop to uid 65534, then bwrap in an
   * unprivileged user namespace), `direct` (the caller is not root), or `root-userns` (root, when
   * unprivileged user namespaces are unavailable: bwrap maps uid 65534 onto root, and the kernel
   * does not apply the process limit to root; the wall-clock limit and the pid namespace still
   * end a fork bomb).
   */
  mode: "setpriv" | "direct" | "root-userns";
  /** Limits that do not hold in this mode, in words. */
  warnings: string[];
  /** `setpriv`, when the caller is root and drops to an unprivileged uid. */
  setpriv?: string;
  /** The uid the sandbox runs as on the host. */
  uid: number;
  python?: string;
  node: string;
  /** Extra directories bound read-only for interpreters outside /usr. */
  extraBinds: string[];
  /** Per-sandbox memory and process limits: a control group, else one process per sandbox. */
  memory: CgroupKind | "single-process";
  /** Where the per-sandbox control groups are made. */
  cgroupDir?: string;
  /** Whether this bubblewrap has `--disable-userns` (0.8.0 and later). */
  disableUserns: boolean;
}

const SANDBOX_UID = 65534;

function which(cmd: string, preferred: string[]): string | undefined {
  for (const p of preferred) if (existsSync(p)) return p;
  const r = spawnSync("sh", ["-c", `command -v ${cmd}`], { encoding: "utf8" });
  const p = r.stdout?.trim();
  return p ? p : undefined;
}

/** A directory that holds an interpreter installed outside /usr (node from a tarball...). */
function installRoot(bin: string): string | undefined {
  const real = realpathSync(bin);
  if (real.startsWith("/usr/")) return undefined;
  return dirname(dirname(real));
}

let cachedInfo: SandboxInfo | undefined;
let cgroups: CgroupBackend | undefined;

/**
 * Finds the sandbox's tools and interpreters and how limits can hold here. Throws
 * `sandbox_unavailable` naming what is missing and how to install it.
 *
 * `RLXF_SANDBOX_MEMORY=single-process` skips control groups (one process per sandbox).
 */
export function sandboxInfo(): SandboxInfo {
  if (cachedInfo) return cachedInfo;
  const missing: string[] = [];
  const bwrap = which("bwrap", ["/usr/bin/bwrap"]);
  if (!bwrap) missing.push("bwrap (apt-get install bubblewrap)");
  const prlimit = which("prlimit", ["/usr/bin/prlimit"]);
  if (!prlimit) missing.push("prlimit (apt-get install util-linux)");
  const bash = which("bash", ["/bin/bash", "/usr/bin/bash"]);
  if (!bash) missing.push("bash (apt-get install bash)");
  const root = process.getuid?.() === 0;
  const setpriv = root ? which("setpriv", ["/usr/bin/setpriv"]) : undefined;
  if (root && !setpriv) missing.push("setpriv (apt-get install util-linux)");
  if (missing.length) throw new RlxfError("sandbox_unavailable", `the code sandbox needs ${missing.join(", ")}`);
  const extraBinds: string[] = [];
  // Python: Debian's /usr/bin/python3 (a pyenv shim under /root is not reachable by the sandbox's uid).
  const envPython = process.env.RLXF_SANDBOX_PYTHON;
  let python = envPython ?? (existsSync("/usr/bin/python3") ? "/usr/bin/python3" : which("python3", []));
  if (python) {
    const r = installRoot(python);
    if (r) extraBinds.push(r);
    python = realpathSync(python);
  }
  const node = realpathSync(process.execPath);
  const nr = installRoot(node);
  if (nr && !extraBinds.includes(nr)) extraBinds.push(nr);
  const info: SandboxInfo = {
    bwrap: bwrap!,
    prlimit: prlimit!,
    bash: bash!,
    uid: root ? SANDBOX_UID : process.getuid?.() ?? 0,
    node,
    extraBinds,
    mode: root ? "setpriv" : "direct",
    warnings: [],
    memory: "single-process",
    disableUserns: true,
  };
  if (setpriv) info.setpriv = setpriv;
  if (python) info.python = python;
  // Probe: can we start a sandbox this way, and does this bubblewrap know --disable-userns?
  const probe = (i: SandboxInfo, disable: boolean) =>
    spawnSync(launcher(i)[0]!, [...launcher(i).slice(1), "--unshare-all", "--unshare-user", ...(disable ? ["--disable-userns"] : []), ...systemBinds(), "--proc", "/proc", "/usr/bin/true"], { encoding: "utf8", timeout: 20_000 });
  const works = (i: SandboxInfo) => {
    if (probe(i, true).status === 0) return true;
    if (probe(i, false).status !== 0) return false;
    i.disableUserns = false;
    i.warnings.push("this bubblewrap has no --disable-userns (0.8.0 and later): only the seccomp filter refuses nested user namespaces");
    return true;
  };
  // RLXF_SANDBOX_MODE=root-userns forces the fallback (to see what it holds).
  const forced = process.env.RLXF_SANDBOX_MODE === "root-userns" && root;
  let chosen: SandboxInfo | undefined = !forced && works(info) ? info : undefined;
  if (!chosen && root) {
    const fallback: SandboxInfo = { ...info, mode: "root-userns", disableUserns: true, warnings: ["the process limit (RLIMIT_NPROC) does not apply: unprivileged user namespaces are unavailable, so the sandbox's uid maps onto root"] };
    delete fallback.setpriv;
    if (works(fallback)) chosen = fallback;
  }
  if (!chosen) {
    const p = probe(info, false);
    throw new RlxfError("sandbox_unavailable", `bubblewrap could not start a sandbox (${(p.stderr || p.error?.message || `exit ${p.status}`).trim()}); it needs user namespaces (kernel.unprivileged_userns_clone=1, or run as root)`);
  }
  if (process.env.RLXF_SANDBOX_MEMORY !== "single-process") {
    const found = detectCgroups();
    if (found.backend) {
      cgroups = found.backend;
      chosen.memory = found.backend.kind;
      chosen.cgroupDir = found.backend.where;
      // the group's pids limit holds where RLIMIT_NPROC does not
      if (chosen.mode === "root-userns") chosen.warnings = chosen.warnings.map((w) => (w.startsWith("the process limit") ? `${w} (the control group's process limit still holds)` : w));
    } else {
      chosen.warnings.push(`no control group for sandboxes (${found.tried.join("; ")}): each sandbox is kept to one process, so that its memory limit is the sandbox's`);
    }
  }
  cachedInfo = chosen;
  return chosen;
}

/** Forget what `sandboxInfo` found (after changing RLXF_SANDBOX_* variables). */
export function resetSandboxInfo(): void {
  cachedInfo = undefined;
  cgroups = undefined;
}

/** The control groups sandboxes are made in, if any (after `sandboxInfo`). */
export function cgroupBackend(): CgroupBackend | undefined {
  return cgroups;
}

/**
 * The argv that enters the control group (its `cgroup.procs` files), closes every file descriptor above
 * `lastFd`, and starts bubblewrap with `bwrapArgs`.
 */
export function launcherArgv(info: SandboxInfo, lastFd: number, procsFiles: string[], bwrapArgs: string[]): string[] {
  return [info.bash, "--norc", "--noprofile", "-c", LAUNCH, "rlxf-sandbox", String(lastFd), String(procsFiles.length), ...procsFiles, ...launcher(info), ...bwrapArgs];
}

/** Namespaces, the read-only system, `/proc` and the harmless devices: what every sandbox starts from. */
export function bwrapBase(info: SandboxInfo): string[] {
  return [
    "--unshare-all",
    "--unshare-user",
    ...(info.disableUserns ? ["--disable-userns"] : []),
    "--die-with-parent",
    "--new-session",
    "--hostname", "sandbox",
    ...systemBinds(),
    ...info.extraBinds.flatMap((d) => ["--ro-bind", d, d]),
    "--proc", "/proc",
    ...devices(),
  ];
}

/** The whole environment a program in the sandbox sees. */
export const SANDBOX_ENV: Readonly<Record<string, string>> = { PATH: "/usr/local/bin:/usr/bin:/bin", HOME: "/sandbox", TMPDIR: "/tmp", LANG: "C.UTF-8", PYTHONIOENCODING: "utf-8", PYTHONHASHSEED: "0" };

/** An exit status as bubblewrap reports it: a child killed by signal N is exit code 128 + N. */
export function decodeExit(code: number | null, sig: string | null = null): { exitCode: number | null; signal: string | null } {
  if (code !== null && code > 128 && code < 160) return { exitCode: null, signal: SIGNALS[code - 128] ?? `signal ${code - 128}` };
  return { exitCode: code, signal: sig };
}

/**
 * Watches a run: kills it past its wall-clock time, when its tmpfs holds more than its files (seen through
 * one of its processes, `pidInside`; the kernel caps the size: a full tmpfs is ENOSPC, not a kill), when its
 * processes together have used more than `cpuSeconds` of CPU (`cpuMicros`, the run's control group, where the
 * kernel accounts it: RLIMIT_CPU is per process, so without this a fork bomb of `processes` processes could
 * keep every core busy until the wall clock), or when `signal` aborts. Returns the function that stops watching.
 */
export function watchRun(limits: SandboxLimits, signal: AbortSignal | undefined, pidInside: () => number | undefined, kill: (why?: LimitHit) => void, cpuMicros?: () => number | undefined): () => void {
  const wall = setTimeout(() => kill("wall"), limits.wallMs);
  const disk = setInterval(() => {
    const used = cpuMicros?.();
    if (used !== undefined && used > limits.cpuSeconds * 1e6) {
      kill("cpu");
      return;
    }
    const pid = pidInside();
    if (pid === undefined) return;
    try {
      const s = statfsSync(`/proc/${pid}/root/sandbox`);
      if (s.files - s.ffree > limits.diskFiles + 3) kill("disk");
    } catch {
      /* not started, or over */
    }
  }, 100);
  const onAbort = () => kill();
  signal?.addEventListener("abort", onAbort);
  return () => {
    clearTimeout(wall);
    clearInterval(disk);
    signal?.removeEventListener("abort", onAbort);
  };
}

/** The limit a run hit, read from how it ended when nothing watching it said. */
export function limitFromOutput(signal: string | null, stderr: string): LimitHit | undefined {
  if (signal === "SIGXCPU") return "cpu";
  if (signal === "SIGXFSZ" || /File too large|EFBIG|No space left on device|ENOSPC/.test(stderr)) return "disk";
  if (/MemoryError|JavaScript heap out of memory|Array buffer allocation failed|Fatal process out of memory|Cannot allocate memory|Fatal process OOM/.test(stderr)) return "memory";
  if (/Resource temporarily unavailable|EAGAIN|BlockingIOError: \[Errno 11\]/.test(stderr)) return "processes";
  return undefined;
}

/** The command that starts bwrap: through setpriv when dropping root, with --uid when bwrap runs as root. */
function launcher(info: SandboxInfo): string[] {
  if (info.mode === "setpriv") return [info.setpriv!, `--reuid=${info.uid}`, `--regid=${info.uid}`, "--clear-groups", "--inh-caps=-all", "--no-new-privs", "--", info.bwrap];
  if (info.mode === "root-userns") return [info.bwrap, "--uid", String(SANDBOX_UID), "--gid", String(SANDBOX_UID)];
  return [info.bwrap];
}

/** Root-level entries of the host that the sandbox sees (links into /usr, or read-only binds). */
function systemBinds(): string[] {
  const args = ["--ro-bind", "/usr", "/usr"];
  for (const d of ["/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"]) {
    if (!existsSync(d)) continue;
    const st = lstatSync(d);
    if (st.isSymbolicLink()) args.push("--symlink", readlinkSync(d), d);
    else if (st.isDirectory()) args.push("--ro-bind", d, d);
  }
  for (const f of ["/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/alternatives", "/etc/ssl/certs"]) {
    if (existsSync(f)) args.push("--ro-bind", f, f);
  }
  return args;
}

/** A minimal /dev on the read-only root: the harmless character devices and the fd links. */
function devices(): string[] {
  const args = ["--dir", "/dev"];
  for (const d of ["null", "zero", "full", "random", "urandom"]) if (existsSync(`/dev/${d}`)) args.push("--dev-bind", `/dev/${d}`, `/dev/${d}`);
  args.push("--symlink", "/proc/self/fd", "/dev/fd", "--symlink", "/proc/self/fd/0", "/dev/stdin", "--symlink", "/proc/self/fd/1", "/dev/stdout", "--symlink", "/proc/self/fd/2", "/dev/stderr");
  return args;
}

// ---------------------------------------------------------------- ceilings ---

export interface SandboxConfig {
  /** The most any caller may ask for, per limit. */
  ceilings: SandboxLimits;
  /** Sandboxes running at once in this process; more wait in line. */
  maxConcurrent: number;
}

const BYTE_UNITS: Record<string, number> = { "": 1, k: 1024, kb: 1024, kib: 1024, m: 1024 ** 2, mb: 1024 ** 2, mib: 1024 ** 2, g: 1024 ** 3, gb: 1024 ** 3, gib: 1024 ** 3 };

/**
 * Parses `name=value,...` (`memoryBytes=1GiB,wallMs=30000`) into limits; byte-valued limits take
 * K/M/G suffixes. Throws a ValidationError naming the bad entry.
 */
export function parseSandboxLimits(text: string, what = "sandbox ceilings"): Partial<SandboxLimits> {
  const out: Partial<SandboxLimits> = {};
  for (const part of text.split(",").map((p) => p.trim()).filter(Boolean)) {
    const m = /^([A-Za-z]+)\s*=\s*(\d+(?:\.\d+)?)\s*([A-Za-z]*)$/.exec(part);
    const key = m?.[1] as keyof SandboxLimits | undefined;
    if (!m || !key || !LIMIT_KEYS.includes(key)) {
      throw new ValidationError([{ path: m?.[1] ?? part, message: `expected name=number with a name among ${LIMIT_KEYS.join(", ")}` }], undefined, what);
    }
    const unit = m[3]!.toLowerCase();
    const scale = key.endsWith("Bytes") ? BYTE_UNITS[unit] : unit === "" ? 1 : undefined;
    if (scale === undefined) throw new ValidationError([{ path: key, message: `unknown unit "${m[3]}"${key.endsWith("Bytes") ? " (use K, M or G)" : ""}` }], undefined, what);
    out[key] = Math.floor(Number(m[2]) * scale);
  }
  return out;
}

function initialConfig(): SandboxConfig {
  const ceilings = { ...DEFAULT_LIMITS };
  const env = process.env.RLXF_SANDBOX_CEILINGS;
  if (env) Object.assign(ceilings, parseSandboxLimits(env, "RLXF_SANDBOX_CEILINGS"));
  const n = Number(process.env.RLXF_SANDBOX_CONCURRENCY);
  return { ceilings, maxConcurrent: Number.isInteger(n) && n > 0 ? n : Math.max(1, availableParallelism()) };
}

let config: SandboxConfig | undefined;

/** The ceilings and concurrency in force. */
export function sandboxConfig(): SandboxConfig {
  config ??= initialConfig();
  return { ceilings: { ...config.ceilings }, maxConcurrent: config.maxConcurrent };
}

/** Raises or lowers the ceilings (those given) and the number of sandboxes at once. */
export function configureSandbox(c: { ceilings?: Partial<SandboxLimits>; maxConcurrent?: number }): SandboxConfig {
  config ??= initialConfig();
  if (c.ceilings) {
    const issues = Object.entries(c.ceilings)
      .filter(([k, v]) => !LIMIT_KEYS.includes(k as keyof SandboxLimits) || !Number.isInteger(v) || (v as number) <= 0)
      .map(([k]) => ({ path: k, message: "expected a positive integer ceiling for a known limit" }));
    if (issues.length) throw new ValidationError(issues, undefined, "sandbox ceilings");
    Object.assign(config.ceilings, c.ceilings);
  }
  if (c.maxConcurrent !== undefined) {
    if (!Number.isInteger(c.maxConcurrent) || c.maxConcurrent < 1) throw new ValidationError([{ path: "maxConcurrent", message: "expected a positive integer" }], undefined, "sandbox configuration");
    config.maxConcurrent = c.maxConcurrent;
    pump();
  }
  return sandboxConfig();
}

/**
 * The limits a run gets: the defaults (lowered to the ceilings), then what was asked for. Asking
 * above a ceiling is a ValidationError at `<path>.<limit>`, naming the ceiling.
 */
export function resolveSandboxLimits(asked: Partial<SandboxLimits> | undefined, path = "limits"): SandboxLimits {
  const { ceilings } = sandboxConfig();
  const out = { ...DEFAULT_LIMITS };
  for (const k of LIMIT_KEYS) out[k] = Math.min(out[k], ceilings[k]);
  const issues: Array<{ path: string; message: string }> = [];
  for (const [k, v] of Object.entries(asked ?? {})) {
    if (v === undefined) continue;
    const key = k as keyof SandboxLimits;
    if (!LIMIT_KEYS.includes(key)) {
      issues.push({ path: `${path}.${k}`, message: `unknown limit; use ${LIMIT_KEYS.join(", ")}` });
      continue;
    }
    if (typeof v !== "number" || !Number.isFinite(v) || v <= 0) issues.push({ path: `${path}.${k}`, message: "expected a positive number" });
    else if (v > ceilings[key]) {
      issues.push({ path: `${path}.${k}`, message: `${v} is above this server's ceiling of ${ceilings[key]} (an operator raises it with rlxf serve --sandbox-ceilings or RLXF_SANDBOX_CEILINGS)` });
    } else out[key] = v;
  }
  if (issues.length) throw new ValidationError(issues, undefined, "sandbox limits");
  return out;
}

// ------------------------------------------------------------- the queue ---

let running = 0;
const waiting: Array<() => void> = [];

function pump(): void {
  const max = sandboxConfig().maxConcurrent;
  while (running < max && waiting.length) {
    running++;
    waiting.shift()!();
  }
}

/** Waits for a sandbox slot; the returned function gives it back. */
function acquire(signal?: AbortSignal): Promise<() => void> {
  const release = () => {
    running--;
    pump();
  };
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new RlxfError("aborted", "aborted"));
    const go = () => {
      signal?.removeEventListener("abort", onAbort);
      let done = false;
      resolve(() => {
        if (!done) {
          done = true;
          release();
        }
      });
    };
    const onAbort = () => {
      const i = waiting.indexOf(go);
      if (i >= 0) waiting.splice(i, 1);
      reject(signal?.reason ?? new RlxfError("aborted", "aborted"));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    waiting.push(go);
    pump();
  });
}

/** Sandboxes running and waiting now in this process. */
export function sandboxLoad(): { running: number; waiting: number; maxConcurrent: number } {
  return { running, waiting: waiting.length, maxConcurrent: sandboxConfig().maxConcurrent };
}

// ------------------------------------------------- threads share the slots ---

type SlotRequest = { type: "acquire" | "cancel" | "release"; id: number; thread?: number };
type SlotAnswer = { type: "granted" | "refused"; id: number; error?: string };

/** In a worker thread that shares its parent's slots: the port to ask on. */
let parentSlots: { port: MessagePort; next: number; waiting: Map<number, { resolve: () => void; reject: (e: Error) => void }> } | undefined;

/**
 * What a worker thread needs to run sandboxes as this thread does: the ceilings in force, and a port through
 * which its sandboxes take slots of this thread's `maxConcurrent` (so a server's threads together run at most
 * that many). Transfer `port` to the thread (`transferList`) and call `useSharedSandboxSlots` there. Slots a
 * thread holds when it stops, even terminated, are given back, and the sandboxes it still ran are killed (a
 * terminated thread's own timers cannot stop them).
 */
export function shareSandboxSlots(): { config: SandboxConfig; port: MessagePort } {
  const { port1, port2 } = new MessageChannel();
  const held = new Map<number, () => void>();
  const pending = new Map<number, AbortController>();
  let thread: number | undefined;
  port1.on("message", (m: SlotRequest) => {
    if (m.thread !== undefined) thread = m.thread;
    if (m.type === "acquire") {
      const ctl = new AbortController();
      pending.set(m.id, ctl);
      acquire(ctl.signal).then(
        (release) => {
          pending.delete(m.id);
          held.set(m.id, release);
          port1.postMessage({ type: "granted", id: m.id } satisfies SlotAnswer);
        },
        (e: unknown) => {
          pending.delete(m.id);
          if (!ctl.signal.aborted) port1.postMessage({ type: "refused", id: m.id, error: (e as Error).message } satisfies SlotAnswer);
        },
      );
    } else if (m.type === "cancel") {
      pending.get(m.id)?.abort();
      pending.delete(m.id);
    }
    if (m.type === "release" || m.type === "cancel") {
      held.get(m.id)?.();
      held.delete(m.id);
    }
  });
  port1.on("close", () => {
    for (const ctl of pending.values()) ctl.abort();
    pending.clear();
    if (held.size > 0 && thread !== undefined) killThreadSandboxes(thread);
    for (const release of held.values()) release();
    held.clear();
  });
  // The port must not keep this process alive on its own.
  port1.unref();
  return { config: sandboxConfig(), port: port2 };
}

/** In a worker thread: run sandboxes under `config`'s ceilings, taking slots from the thread that shared them. */
export function useSharedSandboxSlots(shared: { config: SandboxConfig; port: MessagePort }): void {
  configureSandbox({ ceilings: shared.config.ceilings, maxConcurrent: shared.config.maxConcurrent });
  const slots = { port: shared.port, next: 1, waiting: new Map<number, { resolve: () => void; reject: (e: Error) => void }>() };
  slots.port.on("message", (m: SlotAnswer) => {
    const w = slots.waiting.get(m.id);
    slots.waiting.delete(m.id);
    if (!w) return;
    if (m.type === "granted") w.resolve();
    else w.reject(new RlxfError("sandbox_unavailable", m.error ?? "no sandbox slot"));
  });
  slots.port.unref();
  parentSlots = slots;
}

/** A slot from the parent thread (see `shareSandboxSlots`). */
function acquireShared(slots: NonNullable<typeof parentSlots>, signal?: AbortSignal): Promise<() => void> {
  const id = slots.next++;
  const post = (type: SlotRequest["type"]) => slots.port.postMessage({ type, id, thread: threadId } satisfies SlotRequest);
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason ?? new RlxfError("aborted", "aborted"));
    const onAbort = () => {
      slots.waiting.delete(id);
      post("cancel");
      reject(signal?.reason ?? new RlxfError("aborted", "aborted"));
    };
    signal?.addEventListener("abort", onAbort, { once: true });
    slots.waiting.set(id, {
      resolve: () => {
        signal?.removeEventListener("abort", onAbort);
        let done = false;
        resolve(() => {
          if (!done) {
            done = true;
            post("release");
          }
        });
      },
      reject: (e) => {
        signal?.removeEventListener("abort", onAbort);
        reject(e);
      },
    });
    slots.port.ref();
    post("acquire");
  }).finally(() => {
    if (slots.waiting.size === 0) slots.port.unref();
  }) as Promise<() => void>;
}

// ------------------------------------------------------------------ runs ---

/** Host pids of the live (not zombie) processes in a pid namespace (`pid:[inode]`). */
function pidsIn(ns: string): number[] {
  const pids: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (d.charCodeAt(0) < 48 || d.charCodeAt(0) > 57) continue;
    try {
      if (readlinkSync(`/proc/${d}/ns/pid`) !== ns) continue;
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      if (stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3) !== "Z") pids.push(Number(d));
    } catch {
      /* exited, or not ours */
    }
  }
  return pids;
}

/**
 * The kernel kills a pid namespace's processes when its init dies; make sure they are gone
 * (killing any straggler) before the run counts as over.
 */
async function reap(list: () => number[]): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const pids = list();
    if (pids.length === 0) return;
    for (const p of pids) {
      try {
        process.kill(p, "SIGKILL");
      } catch {
        /* gone */
      }
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

/** Removes a run's control group now, or a little later while the kernel still holds it. */
function removeLater(group: Cgroup, tries = 0): void {
  try {
    group.remove();
  } catch {
    if (tries < 50) setTimeout(() => removeLater(group, tries + 1), 200).unref();
  }
}

const SIGNALS: Record<number, string> = { 6: "SIGABRT", 9: "SIGKILL", 11: "SIGSEGV", 15: "SIGTERM", 24: "SIGXCPU", 25: "SIGXFSZ", 8: "SIGFPE", 4: "SIGILL", 7: "SIGBUS", 13: "SIGPIPE" };

/** Bytes the result channel may carry (values can be larger than what a program prints). */
export const CHANNEL_BYTES = 16 * 1024 * 1024;

/**
 * Enters the control group (writing its own pid into each `cgroup.procs`), closes every file
 * descriptor above the ones the sandbox is given, then execs the rest of its arguments.
 */
const LAUNCH = 'k=$1; n=$2; shift 2; while [ "$n" -gt 0 ]; do echo $$ > "$1" || exit 125; shift; n=$((n-1)); done; for f in /proc/$$/fd/*; do d=${f##*/}; if [ "$d" -gt "$k" ] 2>/dev/null; then eval "exec $d>&-"; fi; done; exec "$@"';

/** Runs one interpreter in the sandbox and collects what it did. */
export async function runSandboxed(opts: SandboxRunOptions): Promise<SandboxRunResult> {
  const info = sandboxInfo();
  const limits = resolveSandboxLimits(opts.limits);
  const interpreter = opts.language === "python" ? info.python : info.node;
  if (!interpreter) throw new RlxfError("sandbox_unavailable", "no python3 for the sandbox: apt-get install python3 (or set RLXF_SANDBOX_PYTHON)");
  const names = Object.keys(opts.inputs);
  for (const name of names) if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new RlxfError("invalid_input", `sandbox input name ${JSON.stringify(name)}`);
  const release = await (parentSlots ? acquireShared(parentSlots, opts.signal) : acquire(opts.signal));
  try {
    if (opts.language === "python" && forkServerEnabled(info)) {
      const r = await runForked(info, limits, opts);
      if (r) return r;
    }
    return await runOnce(info, limits, opts, interpreter);
  } finally {
    release();
  }
}

async function runOnce(info: SandboxInfo, limits: SandboxLimits, opts: SandboxRunOptions, interpreter: string): Promise<SandboxRunResult> {
  const names = Object.keys(opts.inputs);
  const single = info.memory === "single-process";
  const isolation: SandboxIsolation = { memory: info.memory, seccomp: true, nestedUserns: info.disableUserns ? "disabled" : "seccomp-only", start: "fresh", cpu: "process" };
  const memFlag = opts.language === "python" ? `--as=${limits.memoryBytes}` : `--data=${limits.memoryBytes}`;
  const nproc = opts.language === "javascript" ? Math.max(64, limits.processes) : limits.processes;
  const interpArgs =
    opts.language === "javascript"
      ? [`--max-old-space-size=${Math.max(16, Math.floor((limits.memoryBytes / 1024 / 1024) * 0.75))}`, "--stack-size=984", ...opts.args]
      : ["-I", "-B", ...opts.args];
  // fds: 0-2 stdio, 3 the result channel, 4 bwrap's status, 5 the seccomp program, 6... the inputs.
  const SECCOMP_FD = 5;
  const firstInput = 6;
  const inputArgs = names.flatMap((name, i) => ["--perms", "0444", "--ro-bind-data", String(firstInput + i), `/input/${name}`]);
  const bwrapArgs = [
    "--json-status-fd", "4",
    "--cap-drop", "ALL",
    ...bwrapBase(info),
    "--perms", "01777", "--size", String(limits.diskBytes), "--tmpfs", "/sandbox",
    "--perms", "01777", "--dir", "/sandbox/tmp",
    "--perms", "01777", "--dir", "/sandbox/.shm",
    "--symlink", "/sandbox/tmp", "/tmp",
    "--symlink", "/sandbox/.shm", "/dev/shm",
    "--dir", "/input",
    ...inputArgs,
    "--remount-ro", "/",
    "--seccomp", String(SECCOMP_FD),
    "--chdir", "/sandbox",
    "--clearenv",
    ...Object.entries(SANDBOX_ENV).flatMap(([k, v]) => ["--setenv", k, v]),
    "--",
    info.prlimit,
    `--cpu=${limits.cpuSeconds}:${limits.cpuSeconds + 1}`,
    memFlag,
    `--nproc=${nproc}`,
    `--fsize=${limits.fileBytes}`,
    `--nofile=${limits.openFiles}`,
    "--core=0",
    "--",
    interpreter,
    ...interpArgs,
  ];
  // The group holds the program's memory and its tmpfs; bubblewrap's own two or three processes count too.
  const group = cgroups?.create({ memoryBytes: limits.memoryBytes + limits.diskBytes, processes: nproc + 4 });
  const procs = group?.procsFiles ?? [];
  if (group?.cpuMicros() !== undefined) isolation.cpu = "sandbox";
  const argv = launcherArgv(info, firstInput + names.length - 1, procs, bwrapArgs);

  const started = performance.now();
  const stdio = Array.from({ length: firstInput + names.length }, () => "pipe" as const);
  const child = spawn(argv[0]!, argv.slice(1), { stdio, detached: true, env: {} });
  let limit: LimitHit | undefined;
  let outputTruncated = false;
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  const chan: Buffer[] = [];
  let outBytes = 0;
  let chanBytes = 0;
  let killed = false;
  const kill = (why?: LimitHit) => {
    if (why && !limit) limit = why;
    if (killed || child.pid === undefined) return;
    killed = true;
    try {
      process.kill(-child.pid, "SIGKILL");
    } catch {
      /* already gone */
    }
  };
  const take = (into: Buffer[]) => (b: Buffer) => {
    const room = limits.outputBytes - outBytes;
    if (room <= 0) {
      // a chunk that exactly filled the cap came before: anything more is over it
      if (b.length > 0) {
        outputTruncated = true;
        kill("output");
      }
      return;
    }
    if (b.length > room) {
      into.push(b.subarray(0, room));
      outBytes = limits.outputBytes;
      outputTruncated = true;
      kill("output");
      return;
    }
    into.push(b);
    outBytes += b.length;
  };
  child.stdout!.on("data", take(out));
  child.stderr!.on("data", take(err));
  const channelStream = child.stdio[3] as NodeJS.ReadableStream;
  channelStream.on("data", (b: Buffer) => {
    chanBytes += b.length;
    if (chanBytes > CHANNEL_BYTES) {
      outputTruncated = true;
      kill("output");
      return;
    }
    chan.push(b);
  });
  // bwrap's own report: the sandbox's first process and pid namespace.
  let status = "";
  const statusStream = child.stdio[4] as NodeJS.ReadableStream;
  statusStream.on("data", (b: Buffer) => {
    if (status.length < 64 * 1024) status += b.toString("utf8");
  });
  const pipes = child.stdio as unknown as Array<NodeJS.ReadableStream & NodeJS.WritableStream>;
  const writers = [child.stdin!, pipes[SECCOMP_FD]!, ...names.map((_, i) => pipes[firstInput + i]!)];
  for (const s of [child.stdout!, child.stderr!, channelStream, statusStream, ...writers]) (s as NodeJS.EventEmitter).on("error", () => {});
  pipes[SECCOMP_FD]!.end(seccompFilter({ noNewProcesses: single }));
  names.forEach((name, i) => pipes[firstInput + i]!.end(opts.inputs[name]!));
  child.stdin!.end(opts.stdin ?? "");

  const unwatch = watchRun(
    limits,
    opts.signal,
    () => {
      const pid = /"child-pid"\s*:\s*(\d+)/.exec(status)?.[1];
      return pid ? Number(pid) : undefined;
    },
    kill,
    group ? () => group.cpuMicros() : undefined,
  );

  let exit: { code: number | null; signal: NodeJS.Signals | null };
  let memoryPeakBytes: number | undefined;
  try {
    exit = await new Promise((resolve, reject) => {
      child.on("error", reject);
      child.on("close", (code, signal) => resolve({ code, signal }));
    });
  } finally {
    unwatch();
    let scan = true;
    if (group) {
      // The group lists a task until it has let go of its memory and files: once empty, nothing of the run can act.
      await reap(() => group.pids());
      const st = group.stats();
      if (st.oomKills > 0 && !limit) limit = "memory";
      memoryPeakBytes = st.peakBytes;
      // A program that forked (or was killed) may leave a process the kernel is still ending: wait for the namespace too.
      const peak = group.peakTasks();
      scan = killed || peak === undefined || peak > 3;
      // bubblewrap's init, once orphaned, waits as a zombie for the host's init to reap it: it does not
      // block the removal, which is retried later if the kernel still holds the group.
      removeLater(group);
    }
    const ns = /"pid-namespace"\s*:\s*(\d+)/.exec(status)?.[1];
    if (ns && scan) await reap(() => pidsIn(`pid:[${ns}]`));
  }
  const wallMs = performance.now() - started;

  const { exitCode, signal } = decodeExit(exit.code, exit.signal);
  const stdout = Buffer.concat(out).toString("utf8");
  const stderr = Buffer.concat(err).toString("utf8");
  limit ??= limitFromOutput(signal, stderr);
  const r: SandboxRunResult = { exitCode, signal, stdout, stderr, channel: Buffer.concat(chan).toString("utf8"), outputTruncated, wallMs, isolation };
  if (limit) r.limit = limit;
  if (memoryPeakBytes !== undefined) r.memoryPeakBytes = memoryPeakBytes;
  return r;
}

/** A random token the harness must echo: what the program prints cannot pass for a result. */
export const newNonce = () => randomBytes(16).toString("hex");
