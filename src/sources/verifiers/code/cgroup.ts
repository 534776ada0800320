/**
 * One control group per sandbox, so that memory and processes are limited for the sandbox as a
 * whole (every process it forks, and the files it keeps in its tmpfs), not per process.
 *
 * cgroup v2 where this process's cgroup has the memory and pids controllers delegated to its
 * subtree (`memory.max`, `memory.swap.max`, `pids.max`; OOM kills read from `memory.events`);
 * else cgroup v1 where the memory (and pids) hierarchies are writable, as root usually
 * (`memory.limit_in_bytes`, `memory.memsw.limit_in_bytes`, `pids.max`; OOM kills read from
 * `memory.oom_control`). Groups live under this process's own group, in `rlxf-<pid>/s<thread>-<n>`; the
 * sandbox enters its group before anything in it runs (the launcher writes its pid into
 * `cgroup.procs` and then execs bubblewrap), and the group is removed after the run. Without a
 * usable cgroup the sandbox falls back to one process (see `seccomp.ts`).
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, readdirSync, rmdirSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { threadId } from "node:worker_threads";

export type CgroupKind = "cgroup-v2" | "cgroup-v1";

export interface CgroupLimits {
  memoryBytes: number;
  processes: number;
}

export interface Cgroup {
  /** `cgroup.procs` files the launcher writes its pid into. */
  procsFiles: string[];
  /** Pids in the group now (to kill stragglers). */
  pids(): number[];
  /** Most tasks (threads included) the group held at once (`pids.peak`); undefined where the kernel does not say. */
  peakTasks(): number | undefined;
  /** Processes the kernel's OOM killer ended in this group, and its peak memory. */
  stats(): { oomKills: number; peakBytes?: number };
  /** Removes the group (it must be empty). */
  remove(): void;
  /** Changes the limits of a group in use (a fork server's group, between runs). */
  setLimits(limits: CgroupLimits): void;
  /** Memory in use now, in bytes. */
  usage(): number;
  /** Starts the peak memory (`stats().peakBytes`) over from now, where the kernel can; false where it cannot. */
  resetPeak(): boolean;
  /**
   * CPU time used by every process the group has held, in microseconds (`cpu.stat`'s usage_usec in v2,
   * `cpuacct.usage` in v1); undefined where the kernel does not account it for this group.
   */
  cpuMicros(): number | undefined;
}

export interface CgroupBackend {
  kind: CgroupKind;
  /** The directory holding this process's sandbox groups (for messages). */
  where: string;
  create(limits: CgroupLimits): Cgroup;
}

interface Mount {
  path: string;
  fstype: string;
  superOptions: string[];
}

function mounts(): Mount[] {
  const out: Mount[] = [];
  for (const line of readFileSync("/proc/self/mountinfo", "utf8").split("\n")) {
    const sep = line.indexOf(" - ");
    if (sep < 0) continue;
    const pre = line.slice(0, sep).split(" ");
    const post = line.slice(sep + 3).split(" ");
    const path = pre[4]?.replace(/\\040/g, " ");
    if (!path || !post[0]) continue;
    out.push({ path, fstype: post[0], superOptions: (post[2] ?? "").split(",") });
  }
  return out;
}

/** This process's group per hierarchy: `0::/a/b` (v2) and `4:memory:/x` (v1). */
function ownGroups(): { v2?: string; v1: Map<string, string> } {
  const v1 = new Map<string, string>();
  let v2: string | undefined;
  for (const line of readFileSync("/proc/self/cgroup", "utf8").split("\n")) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line);
    if (!m) continue;
    if (m[1] === "0" && m[2] === "") v2 = m[3];
    else for (const c of m[2]!.split(",")) v1.set(c, m[3]!);
  }
  return v2 === undefined ? { v1 } : { v2, v1 };
}

const read = (f: string) => readFileSync(f, "utf8");
const tryRead = (f: string) => {
  try {
    return read(f);
  } catch {
    return "";
  }
};
const pidsOf = (procs: string) =>
  tryRead(procs)
    .split("\n")
    .filter((l) => /^\d+$/.test(l))
    .map(Number);

/** Removes `rlxf-<pid>` groups of processes that are gone (best effort). */
function sweepStale(dir: string): void {
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const e of entries) {
    const m = /^rlxf-(\d+)$/.exec(e);
    if (!m || Number(m[1]) === process.pid || existsSync(`/proc/${m[1]}`)) continue;
    const base = join(dir, e);
    try {
      for (const s of readdirSync(base)) if (GROUP.test(s)) rmdirSync(join(base, s));
      rmdirSync(base);
    } catch {
      /* in use, or not ours to remove */
    }
  }
}

/** A sandbox's group: `s<thread id>-<n>`, unique in the process across worker threads. */
const GROUP = /^s\d+-\d+$/;
let counter = 0;
const groupName = () => `s${threadId}-${++counter}`;
const made = new Set<string>();
let exitHook = false;
function track(dir: string): void {
  made.add(dir);
  if (exitHook) return;
  exitHook = true;
  process.on("exit", () => {
    for (const d of [...made].reverse()) {
      try {
        rmdirSync(d);
      } catch {
        /* still busy */
      }
    }
  });
}

function baseDir(parent: string): string {
  sweepStale(parent);
  const base = join(parent, `rlxf-${process.pid}`);
  if (!existsSync(base)) mkdirSync(base);
  track(base);
  return base;
}

function v2Backend(mount: string, own: string): CgroupBackend | undefined {
  const parent = join(mount, own);
  const needs = ["memory", "pids"];
  const available = tryRead(join(parent, "cgroup.controllers")).trim().split(/\s+/);
  if (!needs.every((c) => available.includes(c))) return undefined;
  const enabled = () => tryRead(join(parent, "cgroup.subtree_control")).trim().split(/\s+/);
  // A group with processes of its own cannot hand controllers to children (unless it is the root).
  if (!needs.every((c) => enabled().includes(c))) writeFileSync(join(parent, "cgroup.subtree_control"), needs.map((c) => `+${c}`).join(" "));
  const base = baseDir(parent);
  if (!needs.every((c) => tryRead(join(base, "cgroup.subtree_control")).includes(c))) writeFileSync(join(base, "cgroup.subtree_control"), needs.map((c) => `+${c}`).join(" "));
  return {
    kind: "cgroup-v2",
    where: base,
    create(limits) {
      const dir = join(base, groupName());
      mkdirSync(dir);
      track(dir);
      try {
        writeFileSync(join(dir, "memory.max"), String(limits.memoryBytes));
        if (existsSync(join(dir, "memory.swap.max"))) writeFileSync(join(dir, "memory.swap.max"), "0");
        writeFileSync(join(dir, "pids.max"), String(limits.processes));
      } catch (e) {
        rmdirSync(dir);
        throw e;
      }
      // memory.peak starts over for reads through a file descriptor that wrote to it (Linux 6.12 and later).
      let peakFd: number | undefined;
      return {
        procsFiles: [join(dir, "cgroup.procs")],
        pids: () => pidsOf(join(dir, "cgroup.procs")),
        setLimits(l) {
          writeFileSync(join(dir, "memory.max"), String(l.memoryBytes));
          writeFileSync(join(dir, "pids.max"), String(l.processes));
        },
        usage: () => Number(tryRead(join(dir, "memory.current")).trim()) || 0,
        cpuMicros() {
          const m = /^usage_usec (\d+)$/m.exec(tryRead(join(dir, "cpu.stat")));
          return m ? Number(m[1]) : undefined;
        },
        resetPeak() {
          try {
            peakFd ??= openSync(join(dir, "memory.peak"), "r+");
            writeSync(peakFd, "reset");
            return true;
          } catch {
            return false;
          }
        },
        peakTasks() {
          const text = tryRead(join(dir, "pids.peak")).trim();
          return text === "" ? undefined : Number(text);
        },
        stats() {
          const oom = /^oom_kill (\d+)$/m.exec(tryRead(join(dir, "memory.events")));
          let peak = Number(tryRead(join(dir, "memory.peak")).trim());
          if (peakFd !== undefined) {
            const buf = Buffer.alloc(32);
            try {
              peak = Number(buf.subarray(0, readSync(peakFd, buf, 0, 32, 0)).toString().trim());
            } catch {
              /* as read above */
            }
          }
          return { oomKills: oom ? Number(oom[1]) : 0, ...(peak > 0 ? { peakBytes: peak } : {}) };
        },
        remove() {
          if (peakFd !== undefined) closeSync(peakFd);
          peakFd = undefined;
          if (existsSync(join(dir, "cgroup.kill"))) {
            try {
              writeFileSync(join(dir, "cgroup.kill"), "1");
            } catch {
              /* gone */
            }
          }
          rmdirSync(dir);
          made.delete(dir);
        },
      };
    },
  };
}

function v1Backend(memMount: string, memOwn: string, pidsMount: string | undefined, pidsOwn: string | undefined, cpuMount?: string, cpuOwn?: string): CgroupBackend {
  const memBase = baseDir(join(memMount, memOwn));
  let pidsBase: string | undefined;
  try {
    if (pidsMount !== undefined && pidsOwn !== undefined) pidsBase = baseDir(join(pidsMount, pidsOwn));
  } catch {
    /* no pids hierarchy to write to: the process limit stays RLIMIT_NPROC's */
  }
  let cpuBase: string | undefined;
  try {
    if (cpuMount !== undefined && cpuOwn !== undefined) cpuBase = baseDir(join(cpuMount, cpuOwn));
  } catch {
    /* no cpuacct hierarchy to write to: the CPU limit stays RLIMIT_CPU's, per process */
  }
  return {
    kind: "cgroup-v1",
    where: memBase,
    create(limits) {
      const name = groupName();
      const mem = join(memBase, name);
      mkdirSync(mem);
      track(mem);
      let pids: string | undefined;
      let cpu: string | undefined;
      try {
        writeFileSync(join(mem, "memory.limit_in_bytes"), String(limits.memoryBytes));
        // No swapping out of the limit (memsw exists when swap accounting is on).
        if (existsSync(join(mem, "memory.memsw.limit_in_bytes"))) writeFileSync(join(mem, "memory.memsw.limit_in_bytes"), String(limits.memoryBytes));
        if (pidsBase) {
          pids = join(pidsBase, name);
          mkdirSync(pids);
          track(pids);
          writeFileSync(join(pids, "pids.max"), String(limits.processes));
        }
        if (cpuBase) {
          cpu = join(cpuBase, name);
          mkdirSync(cpu);
          track(cpu);
        }
      } catch (e) {
        for (const d of [cpu, pids, mem]) {
          if (!d) continue;
          try {
            rmdirSync(d);
          } catch {
            /* best effort */
          }
        }
        throw e;
      }
      return {
        procsFiles: [join(mem, "cgroup.procs"), ...(pids ? [join(pids, "cgroup.procs")] : []), ...(cpu ? [join(cpu, "cgroup.procs")] : [])],
        setLimits(l) {
          // memsw may not go below the memory limit: lower memory first, raise memsw first.
          const memsw = join(mem, "memory.memsw.limit_in_bytes");
          const both = existsSync(memsw);
          const current = Number(tryRead(join(mem, "memory.limit_in_bytes")).trim());
          if (both && l.memoryBytes > current) writeFileSync(memsw, String(l.memoryBytes));
          writeFileSync(join(mem, "memory.limit_in_bytes"), String(l.memoryBytes));
          if (both && l.memoryBytes <= current) writeFileSync(memsw, String(l.memoryBytes));
          if (pids) writeFileSync(join(pids, "pids.max"), String(l.processes));
        },
        usage: () => Number(tryRead(join(mem, "memory.usage_in_bytes")).trim()) || 0,
        cpuMicros() {
          if (!cpu) return undefined;
          const text = tryRead(join(cpu, "cpuacct.usage")).trim();
          return text === "" ? undefined : Math.floor(Number(text) / 1000);
        },
        resetPeak() {
          try {
            writeFileSync(join(mem, "memory.max_usage_in_bytes"), "0");
            return true;
          } catch {
            return false;
          }
        },
        pids: () => [...new Set([...pidsOf(join(mem, "cgroup.procs")), ...(pids ? pidsOf(join(pids, "cgroup.procs")) : [])])],
        peakTasks() {
          if (!pids) return undefined;
          const text = tryRead(join(pids, "pids.peak")).trim();
          return text === "" ? undefined : Number(text);
        },
        stats() {
          const oom = /^oom_kill (\d+)$/m.exec(tryRead(join(mem, "memory.oom_control")));
          const peak = Number(tryRead(join(mem, "memory.max_usage_in_bytes")).trim());
          return { oomKills: oom ? Number(oom[1]) : 0, ...(peak > 0 ? { peakBytes: peak } : {}) };
        },
        remove() {
          for (const d of [cpu, pids, mem]) {
            if (!d) continue;
            rmdirSync(d);
            made.delete(d);
          }
        },
      };
    },
  };
}

/**
 * A backend that can make per-sandbox groups here, tried by making (and removing) one; undefined
 * when none is usable, with the reasons.
 */
export function detectCgroups(): { backend?: CgroupBackend; tried: string[] } {
  const tried: string[] = [];
  let ms: Mount[];
  let own: ReturnType<typeof ownGroups>;
  try {
    ms = mounts();
    own = ownGroups();
  } catch (e) {
    return { tried: [`cannot read /proc/self/mountinfo or /proc/self/cgroup: ${(e as Error).message}`] };
  }
  const probe = (b: CgroupBackend) => {
    const g = b.create({ memoryBytes: 64 * 1024 * 1024, processes: 8 });
    g.remove();
    return b;
  };
  const v2 = ms.find((m) => m.fstype === "cgroup2");
  if (v2 && own.v2 !== undefined) {
    try {
      const b = v2Backend(v2.path, own.v2);
      if (b) return { backend: probe(b), tried };
      tried.push(`cgroup v2 at ${v2.path}: the memory and pids controllers are not available to ${own.v2}`);
    } catch (e) {
      tried.push(`cgroup v2 at ${v2.path}${own.v2}: ${(e as Error).message}`);
    }
  }
  const mem = ms.find((m) => m.fstype === "cgroup" && m.superOptions.includes("memory"));
  const pids = ms.find((m) => m.fstype === "cgroup" && m.superOptions.includes("pids"));
  const cpuacct = ms.find((m) => m.fstype === "cgroup" && m.superOptions.includes("cpuacct"));
  if (mem && own.v1.has("memory")) {
    try {
      const backend = v1Backend(mem.path, own.v1.get("memory")!, pids?.path, pids ? own.v1.get("pids") : undefined, cpuacct?.path, cpuacct ? own.v1.get("cpuacct") : undefined);
      return { backend: probe(backend), tried };
    } catch (e) {
      tried.push(`cgroup v1 memory at ${mem.path}: ${(e as Error).message}`);
    }
  } else if (!v2) tried.push("no cgroup file system is mounted");
  return { tried };
}

/**
 * Kills every process in the sandbox groups that worker thread `thread` of this process made, and removes the
 * groups once empty. For a thread that was terminated mid-run: its sandboxes' timers died with it, so nothing
 * else would stop them. Returns how many groups it found.
 */
export function killThreadSandboxes(thread: number): number {
  let ms: Mount[];
  let own: ReturnType<typeof ownGroups>;
  try {
    ms = mounts();
    own = ownGroups();
  } catch {
    return 0;
  }
  const bases: string[] = [];
  for (const m of ms) {
    if (m.fstype === "cgroup2" && own.v2 !== undefined) bases.push(join(m.path, own.v2, `rlxf-${process.pid}`));
    if (m.fstype === "cgroup") for (const c of ["memory", "pids", "cpuacct"]) if (m.superOptions.includes(c) && own.v1.has(c)) bases.push(join(m.path, own.v1.get(c)!, `rlxf-${process.pid}`));
  }
  const prefix = `s${thread}-`;
  const dirs: string[] = [];
  for (const base of new Set(bases)) {
    let names: string[];
    try {
      names = readdirSync(base);
    } catch {
      continue;
    }
    for (const n of names) if (n.startsWith(prefix) && GROUP.test(n)) dirs.push(join(base, n));
  }
  for (const dir of dirs) {
    if (existsSync(join(dir, "cgroup.kill"))) {
      try {
        writeFileSync(join(dir, "cgroup.kill"), "1");
      } catch {
        /* gone */
      }
    }
    for (const pid of pidsOf(join(dir, "cgroup.procs"))) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        /* gone */
      }
    }
  }
  // The groups empty once their processes are reaped: try a few times, then leave them to the next sweep.
  let left = dirs;
  let tries = 0;
  const removeEmpty = () => {
    left = left.filter((d) => {
      try {
        rmdirSync(d);
        return false;
      } catch (e) {
        return (e as NodeJS.ErrnoException).code !== "ENOENT";
      }
    });
    if (left.length && ++tries < 20) setTimeout(removeEmpty, 100).unref();
  };
  if (dirs.length) removeEmpty();
  return dirs.length;
}
