/**
 * Running untrusted programs in a real sandbox: bubblewrap (Debian's `bubblewrap` package)
 * for isolation, util-linux `prlimit` for resource limits, `setpriv` to drop root.
 *
 * Isolation: every namespace unshared (`--unshare-all`: user, mount, pid, network, ipc,
 * uts, cgroup), so no network but a private loopback, no view of the host's processes;
 * the file system is read-only `/usr` (and the `/bin`, `/lib*` links into it), a few files of
 * `/etc`, fresh `/proc` and `/dev`, the run's inputs read-only at `/input`, and one private
 * writable directory at `/sandbox` (also `/tmp`), which is a fresh host temp dir removed
 * afterwards. The environment is cleared. `--die-with-parent` and a new session: the
 * sandbox dies with its parent and cannot reach the caller's terminal.
 *
 * Limits: CPU seconds (SIGXCPU), address space (Python) or data segment (Node.js, whose
 * V8 reserves address space up front), processes and threads (RLIMIT_NPROC, counted within
 * the sandbox's own user namespace, which is why the sandbox runs as an unprivileged uid,
 * 65534, when the caller is root: the kernel exempts root from RLIMIT_NPROC), file size,
 * open files, no core dumps; wall-clock time (the whole sandbox is killed), output size
 * (stdout and stderr counted while they are read; the sandbox is killed when they exceed
 * the cap), and disk use of the writable directory (checked while it runs).
 */
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, realpathSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { RlxfError } from "../../../errors.js";

export type Language = "python" | "javascript";

export interface SandboxLimits {
  /** Wall-clock time before the whole sandbox is killed (default 10 s). */
  wallMs: number;
  /** CPU seconds of each process (default 5). */
  cpuSeconds: number;
  /** Memory: address space for Python, data segment for JavaScript (default 512 MiB). */
  memoryBytes: number;
  /** Processes and threads inside the sandbox (default 32; JavaScript gets at least 64 for V8's threads). */
  processes: number;
  /** stdout + stderr bytes kept before the sandbox is killed (default 1 MiB). */
  outputBytes: number;
  /** Largest file the program may write (default 16 MiB). */
  fileBytes: number;
  /** Bytes in the writable directory before the sandbox is killed (default 64 MiB). */
  diskBytes: number;
  /** Files in the writable directory before the sandbox is killed (default 4096). */
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
}

export interface SandboxInfo {
  bwrap: string;
  prlimit: string;
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

/**
 * Finds the sandbox's tools and interpreters. Throws `sandbox_unavailable` naming what is
 * missing and how to install it.
 */
export function sandboxInfo(): SandboxInfo {
  if (cachedInfo) return cachedInfo;
  const missing: string[] = [];
  const bwrap = which("bwrap", ["/usr/bin/bwrap"]);
  if (!bwrap) missing.push("bwrap (apt-get install bubblewrap)");
  const prlimit = which("prlimit", ["/usr/bin/prlimit"]);
  if (!prlimit) missing.push("prlimit (apt-get install util-linux)");
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
  const info: SandboxInfo = { bwrap: bwrap!, prlimit: prlimit!, uid: root ? SANDBOX_UID : process.getuid?.() ?? 0, node, extraBinds, mode: root ? "setpriv" : "direct", warnings: [] };
  if (setpriv) info.setpriv = setpriv;
  if (python) info.python = python;
  // Probe: can we start a sandbox this way? Else (root) fall back to bwrap as root.
  const probe = (i: SandboxInfo) => spawnSync(launcher(i)[0]!, [...launcher(i).slice(1), "--unshare-all", "--ro-bind", "/usr", "/usr", ...systemBinds().slice(3), "--proc", "/proc", "--dev", "/dev", "/usr/bin/true"], { encoding: "utf8", timeout: 20_000 });
  // RLXF_SANDBOX_MODE=root-userns forces the fallback (to see what it holds).
  const p = process.env.RLXF_SANDBOX_MODE === "root-userns" && root ? { status: 1, stderr: "", error: undefined } : probe(info);
  if (p.status !== 0 && root) {
    const fallback: SandboxInfo = { ...info, mode: "root-userns", warnings: ["the process limit (RLIMIT_NPROC) does not apply: unprivileged user namespaces are unavailable, so the sandbox's uid maps onto root"] };
    delete fallback.setpriv;
    const q = probe(fallback);
    if (q.status === 0) {
      cachedInfo = fallback;
      return fallback;
    }
  }
  if (p.status !== 0) {
    throw new RlxfError("sandbox_unavailable", `bubblewrap could not start a sandbox (${(p.stderr || p.error?.message || `exit ${p.status}`).trim()}); it needs user namespaces (kernel.unprivileged_userns_clone=1, or run as root)`);
  }
  cachedInfo = info;
  return info;
}

/** The command that starts bwrap: through setpriv when dropping root, with --uid when bwrap runs as root. */
function launcher(info: SandboxInfo): string[] {
  if (info.mode === "setpriv") return [info.setpriv!, `--reuid=${info.uid}`, `--regid=${info.uid}`, "--clear-groups", "--inh-caps=-all", "--no-new-privs", "--", info.bwrap];
  if (info.mode === "root-userns") return [info.bwrap, "--unshare-user", "--uid", String(SANDBOX_UID), "--gid", String(SANDBOX_UID)];
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

function dirUsage(dir: string, cap: { bytes: number; files: number }): { bytes: number; files: number } {
  let bytes = 0;
  let files = 0;
  const stack = [dir];
  while (stack.length) {
    const d = stack.pop()!;
    let entries: import("node:fs").Dirent[];
    try {
      entries = readdirSync(d, { withFileTypes: true });
    } catch {
      continue;
    }
    for (const e of entries) {
      files++;
      const p = join(d, e.name);
      try {
        if (e.isDirectory()) stack.push(p);
        else bytes += lstatSync(p).size;
      } catch {
        /* removed meanwhile */
      }
      if (files > cap.files || bytes > cap.bytes) return { bytes, files };
    }
  }
  return { bytes, files };
}

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
async function reapNamespace(ns: string): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const pids = pidsIn(ns);
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

const SIGNALS: Record<number, string> = { 6: "SIGABRT", 9: "SIGKILL", 11: "SIGSEGV", 15: "SIGTERM", 24: "SIGXCPU", 25: "SIGXFSZ", 8: "SIGFPE", 4: "SIGILL", 7: "SIGBUS", 13: "SIGPIPE" };

/** Runs one interpreter in the sandbox and collects what it did. */
export async function runSandboxed(opts: SandboxRunOptions): Promise<SandboxRunResult> {
  const info = sandboxInfo();
  const limits: SandboxLimits = { ...DEFAULT_LIMITS, ...opts.limits };
  const interpreter = opts.language === "python" ? info.python : info.node;
  if (!interpreter) throw new RlxfError("sandbox_unavailable", "no python3 for the sandbox: apt-get install python3 (or set RLXF_SANDBOX_PYTHON)");

  const base = mkdtempSync(join(tmpdir(), "rlxf-sandbox-"));
  const inputDir = join(base, "input");
  const workDir = join(base, "work");
  mkdirSync(inputDir);
  mkdirSync(workDir);
  mkdirSync(join(workDir, "tmp"));
  for (const [name, content] of Object.entries(opts.inputs)) {
    if (!/^[A-Za-z0-9_.-]+$/.test(name)) throw new RlxfError("invalid_input", `sandbox input name ${JSON.stringify(name)}`);
    writeFileSync(join(inputDir, name), content, { mode: 0o444 });
  }
  chmodSync(base, 0o711);
  chmodSync(inputDir, 0o555);
  if (info.mode === "setpriv") {
    chownSync(workDir, info.uid, info.uid);
    chownSync(join(workDir, "tmp"), info.uid, info.uid);
  }
  chmodSync(workDir, 0o700);

  const memFlag = opts.language === "python" ? `--as=${limits.memoryBytes}` : `--data=${limits.memoryBytes}`;
  const nproc = opts.language === "javascript" ? Math.max(64, limits.processes) : limits.processes;
  const interpArgs =
    opts.language === "javascript"
      ? [`--max-old-space-size=${Math.max(16, Math.floor((limits.memoryBytes / 1024 / 1024) * 0.75))}`, "--stack-size=984", ...opts.args]
      : ["-I", "-B", ...opts.args];
  const bwrapArgs = [
    "--json-status-fd", "4",
    "--unshare-all",
    "--die-with-parent",
    "--new-session",
    "--cap-drop", "ALL",
    "--hostname", "sandbox",
    ...systemBinds(),
    ...info.extraBinds.flatMap((d) => ["--ro-bind", d, d]),
    "--proc", "/proc",
    "--dev", "/dev",
    "--ro-bind", inputDir, "/input",
    "--bind", workDir, "/sandbox",
    "--bind", join(workDir, "tmp"), "/tmp",
    "--chdir", "/sandbox",
    "--clearenv",
    "--setenv", "PATH", "/usr/local/bin:/usr/bin:/bin",
    "--setenv", "HOME", "/sandbox",
    "--setenv", "TMPDIR", "/tmp",
    "--setenv", "LANG", "C.UTF-8",
    "--setenv", "PYTHONIOENCODING", "utf-8",
    "--setenv", "PYTHONHASHSEED", "0",
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
  const argv = [...launcher(info), ...bwrapArgs];

  const started = performance.now();
  const child = spawn(argv[0]!, argv.slice(1), { stdio: ["pipe", "pipe", "pipe", "pipe", "pipe"], detached: true, env: {} });
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
    if (chanBytes > 4 * 1024 * 1024) return;
    chan.push(b);
    chanBytes += b.length;
  });
  // bwrap's own report: the sandbox's pid namespace (to make sure nothing outlives it).
  let status = "";
  const statusStream = child.stdio[4] as NodeJS.ReadableStream;
  statusStream.on("data", (b: Buffer) => {
    if (status.length < 64 * 1024) status += b.toString("utf8");
  });
  for (const s of [child.stdin!, child.stdout!, child.stderr!, channelStream, statusStream]) (s as NodeJS.EventEmitter).on("error", () => {});
  child.stdin!.end(opts.stdin ?? "");

  const wall = setTimeout(() => kill("wall"), limits.wallMs);
  const disk = setInterval(() => {
    const u = dirUsage(workDir, { bytes: limits.diskBytes, files: limits.diskFiles });
    if (u.bytes > limits.diskBytes || u.files > limits.diskFiles) kill("disk");
  }, 200);
  const onAbort = () => kill();
  opts.signal?.addEventListener("abort", onAbort);

  let exit: { code: number | null; signal: NodeJS.Signals | null };
  try {
    exit = await new Promise((resolve, reject) => {
      child.on("error", reject);
      child.on("close", (code, signal) => resolve({ code, signal }));
    });
  } finally {
    clearTimeout(wall);
    clearInterval(disk);
    opts.signal?.removeEventListener("abort", onAbort);
    const ns = /"pid-namespace"\s*:\s*(\d+)/.exec(status)?.[1];
    if (ns) await reapNamespace(`pid:[${ns}]`);
    try {
      rmSync(base, { recursive: true, force: true });
    } catch {
      /* best effort */
    }
  }
  const wallMs = performance.now() - started;

  // bwrap reports a child killed by signal N as exit code 128 + N.
  let exitCode = exit.code;
  let signal: string | null = exit.signal;
  if (exitCode !== null && exitCode > 128 && exitCode < 160) {
    signal = SIGNALS[exitCode - 128] ?? `signal ${exitCode - 128}`;
    exitCode = null;
  }
  const stdout = Buffer.concat(out).toString("utf8");
  const stderr = Buffer.concat(err).toString("utf8");
  if (!limit) {
    if (signal === "SIGXCPU") limit = "cpu";
    else if (signal === "SIGXFSZ" || /File too large|EFBIG/.test(stderr)) limit = "disk";
    else if (/MemoryError|JavaScript heap out of memory|Array buffer allocation failed|Fatal process out of memory|Cannot allocate memory|Fatal process OOM/.test(stderr)) limit = "memory";
    else if (/Resource temporarily unavailable|EAGAIN|BlockingIOError: \[Errno 11\]/.test(stderr)) limit = "processes";
  }
  const r: SandboxRunResult = { exitCode, signal, stdout, stderr, channel: Buffer.concat(chan).toString("utf8"), outputTruncated, wallMs };
  if (limit) r.limit = limit;
  return r;
}

/** A random token the harness must echo: what the program prints cannot pass for a result. */
export const newNonce = () => randomBytes(16).toString("hex");
