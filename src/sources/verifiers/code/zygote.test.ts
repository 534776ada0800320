/**
 * Python runs forked from a fork server: each run must be as fresh and as contained as a new
 * interpreter in a new sandbox. Programs here attack what runs share (the server, the pipes to the
 * host, the memory a run is forked from) and check, from the next run on the same server and from
 * the host, that nothing of one run reaches another.
 */
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { forkServerStats, runCode, runSandboxed, sandboxInfo } from "./index.js";

const forking = sandboxInfo().mode !== "root-userns";
/** Host pids of this process's fork servers: pid 2 of bubblewrap's namespace, under this process. */
function ownServers(): number[] {
  const out: number[] = [];
  const queue = [process.pid];
  while (queue.length) {
    const pid = queue.shift()!;
    let kids: number[] = [];
    try {
      kids = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
      const nspid = /^NSpid:\s+(.*)$/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))?.[1]?.trim().split(/\s+/);
      if (nspid?.length === 2 && nspid[1] === "2" && readFileSync(`/proc/${pid}/cmdline`, "utf8").includes("rlxf-end")) out.push(pid);
    } catch {
      /* gone */
    }
    queue.push(...kids);
  }
  return out;
}

const run = (program: string, limits = {}) => runSandboxed({ language: "python", inputs: { "p.py": program }, args: ["/input/p.py"], limits });

describe.runIf(forking)("runs forked from a fork server", () => {
  it("a run starts clean: no file, module change, process or value of the run before it", async () => {
    const secret = `secret-${randomBytes(12).toString("hex")}`;
    const first = await run(`
import json, os, subprocess
json.LEAK = "${secret}"
KEPT = "${secret}" * 2
open("/tmp/left", "w").write("${secret}")
open("/sandbox/left", "w").write("${secret}")
open("/dev/shm/left", "w").write("${secret}")
subprocess.Popen(["sleep", "30"])
if os.fork() == 0:
    os.setsid()
    import time
    time.sleep(30)
print("planted")
`);
    expect(first.stdout).toContain("planted");
    expect(first.isolation.start).toBe("forked");
    const before = forkServerStats();
    const second = await run(`
import gc, json, os
print("leak", hasattr(json, "LEAK"))
print("files", [p for p in ("/tmp/left", "/sandbox/left", "/dev/shm/left") if os.path.exists(p)])
print("pids", sorted(int(p) for p in os.listdir("/proc") if p.isdigit()))
print("found", any(isinstance(o, str) and "${secret.slice(0, 10)}" + "${secret.slice(10)}" in o for o in gc.get_objects()))
print("inputs", sorted(os.listdir("/input")))
`);
    // the same server served both runs
    expect(forkServerStats().started).toBe(before.started);
    expect(second.exitCode).toBe(0);
    expect(second.stdout).toContain("leak False");
    expect(second.stdout).toContain("files []");
    // the namespace's init and the program: nothing the first run left running
    expect(second.stdout).toContain("pids [1, 2]");
    expect(second.stdout).toContain("found False");
    expect(second.stdout).toContain("inputs ['p.py']");
  });

  it("printing an end marker neither ends the run nor cuts its output", async () => {
    const fake = `\\0rlxf-end:${"0".repeat(32)}\\0`;
    const r = await run(`
import os, sys, time
for fd in (1, 2, 3):
    os.write(fd, b"${fake}")
time.sleep(0.3)
print("after")
os.write(3, b"channel after")
`);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toBe(`\0rlxf-end:${"0".repeat(32)}\0after\n`);
    expect(r.stderr).toBe(`\0rlxf-end:${"0".repeat(32)}\0`);
    expect(r.channel).toBe(`\0rlxf-end:${"0".repeat(32)}\0channel after`);
  });

  it("signals at its init, its process group or everything it sees end at most its own run", async () => {
    const before = forkServerStats();
    const r = await run(`
import os, signal
print("ppid", os.getppid(), "pgrp", os.getpgrp() == os.getpid(), flush=True)
for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGKILL):
    os.kill(1, sig)
print("init survives", flush=True)
try:
    os.kill(-1, signal.SIGKILL)
except OSError:
    pass
os.kill(0, signal.SIGKILL)
print("not reached")
`);
    expect(r.stdout).toContain("ppid 1 pgrp True");
    expect(r.stdout).toContain("init survives");
    expect(r.stdout).not.toContain("not reached");
    expect(r.signal).toBe("SIGKILL");
    // the server lived on: the next run is served by it
    const next = await run("print('next')\n");
    expect(next.stdout).toBe("next\n");
    expect(forkServerStats().started).toBe(before.started);
  });

  it("a run that made the shared pipes non-blocking and filled them leaves the server serving", async () => {
    const r = await run(`
import os, time
for fd in (1, 2, 3):
    os.set_blocking(fd, False)
sent = 0
while sent < 4 * 1024 * 1024:
    try:
        sent += os.write(1, b"x" * 65536)
    except BlockingIOError:
        time.sleep(0.001)
`, { outputBytes: 256 * 1024 });
    expect(r.limit).toBe("output");
    const next = await run("print('next')\n");
    expect(next).toMatchObject({ exitCode: 0, stdout: "next\n" });
  });

  it("what a run is given is as a fresh sandbox's: no capability, no_new_privs, the filter, its limits", async () => {
    const r = await run(
      `
import os, resource
status = dict(l.split(":", 1) for l in open("/proc/self/status").read().splitlines() if ":" in l)
for k in ("CapInh", "CapPrm", "CapEff", "CapAmb", "NoNewPrivs", "Seccomp"):
    print(k, status[k].strip())
print("cpu", resource.getrlimit(resource.RLIMIT_CPU))
print("files", resource.getrlimit(resource.RLIMIT_NOFILE))
print("fds", sorted(int(f) for f in os.listdir("/proc/self/fd")))
print("cwd", os.getcwd(), "env", sorted(os.environ))
`,
      { cpuSeconds: 3, openFiles: 32 },
    );
    expect(r.exitCode).toBe(0);
    for (const cap of ["CapInh", "CapPrm", "CapEff", "CapAmb"]) expect(r.stdout).toMatch(new RegExp(`${cap} 0+\\n`));
    expect(r.stdout).toContain("NoNewPrivs 1");
    expect(r.stdout).toContain("Seccomp 2");
    expect(r.stdout).toContain("cpu (3, 4)");
    expect(r.stdout).toContain("files (32, 32)");
    // stdin, stdout, stderr, the result channel, and the listing's own descriptor
    expect(r.stdout).toMatch(/fds \[0, 1, 2, 3(, \d+)?\]/);
    expect(r.stdout).toContain("cwd /sandbox env ['HOME', 'LANG', 'PATH', 'PYTHONHASHSEED', 'PYTHONIOENCODING', 'TMPDIR']");
  });

  it("a run over its wall clock or memory ends; the next one is served", async () => {
    const wall = await run("import time\ntime.sleep(30)\n", { wallMs: 500 });
    expect(wall.limit).toBe("wall");
    const next = await run("print('next')\n");
    expect(next.stdout).toBe("next\n");
    const memory = await run("xs = []\nwhile True:\n    xs.append(bytearray(10 ** 7))\n", { memoryBytes: 128 * 1024 * 1024 });
    expect(memory.limit).toBe("memory");
    const after = await run("print('after')\n");
    expect(after.stdout).toBe("after\n");
  });

  it("a server that stops answering is replaced: the run on it ends as killed, the next run is served", async () => {
    await run("pass\n");
    const servers = ownServers();
    expect(servers.length).toBeGreaterThan(0);
    for (const pid of servers) process.kill(pid, "SIGSTOP");
    const before = forkServerStats();
    try {
      const stuck = await run("import time\ntime.sleep(30)\n", { wallMs: 1000 });
      expect(stuck).toMatchObject({ limit: "wall", signal: "SIGKILL", exitCode: null });
    } finally {
      for (const pid of servers) {
        try {
          process.kill(pid, "SIGCONT");
        } catch {
          /* ended */
        }
      }
    }
    const next = await run("print('next')\n");
    expect(next.stdout).toBe("next\n");
    expect(forkServerStats().started).toBeGreaterThan(before.started);
  });

  it("RLXF_SANDBOX_FORK=0 starts a fresh interpreter, with the same verdicts", async () => {
    const program = "def add(a, b):\n    return a + b\n";
    const tests = "assert add(2, 3) == 5\nassert add(-1, 1) == 0\n";
    const forked = await runCode({ language: "python", program, tests, entryPoint: "add" });
    process.env.RLXF_SANDBOX_FORK = "0";
    try {
      const fresh = await runCode({ language: "python", program, tests, entryPoint: "add" });
      expect(fresh.sandbox.start).toBe("fresh");
      expect(forked.sandbox.start).toBe("forked");
      expect({ ...fresh, wallMs: 0, memoryPeakBytes: 0, sandbox: null }).toEqual({ ...forked, wallMs: 0, memoryPeakBytes: 0, sandbox: null });
    } finally {
      delete process.env.RLXF_SANDBOX_FORK;
    }
  });
});
