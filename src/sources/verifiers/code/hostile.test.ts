/**
 * A hostile corpus: programs that try to reach the network, read or write the host's files,
 * exhaust processes, CPU, memory, output or disk, escalate, or kill their parent. Each test
 * asserts containment on the host side (the file does not exist, the listener saw nobody, the
 * sentinel process is alive, no process of the sandbox outlives it), not just a status.
 */
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ValidationError } from "../../../errors.js";
import { DEFAULT_LIMITS, configureSandbox, parseSandboxLimits, resetSandboxInfo, resolveSandboxLimits, runCode, runSandboxed, sandboxConfig, sandboxInfo, sandboxLoad } from "./index.js";

const tag = randomBytes(6).toString("hex");
const hostDir = join(tmpdir(), `rlxf-hostile-${tag}`);
const secret = `secret-${randomBytes(12).toString("hex")}`;
const secretFile = join(hostDir, "secret.txt");
const repoFile = resolve(import.meta.dirname, `hostile-secret-${tag}.txt`);

beforeAll(() => {
  mkdirSync(hostDir, { recursive: true });
  writeFileSync(secretFile, secret);
  writeFileSync(repoFile, secret);
});
afterAll(() => {
  rmSync(hostDir, { recursive: true, force: true });
  rmSync(repoFile, { force: true });
});

const py = (program: string, limits = {}) => runCode({ language: "python", program, limits });
const all = (r: { stdout: string; stderr: string }) => r.stdout + r.stderr;

/** Live host processes (zombies are dead: only an entry until reaped) in pid namespace `ns` (`pid:[...]`). */
function processesIn(ns: string): number[] {
  const pids: number[] = [];
  for (const d of readdirSync("/proc")) {
    if (!/^\d+$/.test(d)) continue;
    try {
      if (readlinkSync(`/proc/${d}/ns/pid`) !== ns) continue;
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      if (stat[stat.lastIndexOf(")") + 2] !== "Z") pids.push(Number(d));
    } catch {
      /* gone, or not ours to read */
    }
  }
  return pids;
}

describe("hostile programs are contained", () => {
  it("the sandbox is available (bwrap, prlimit, an unprivileged uid when root)", () => {
    const info = sandboxInfo();
    expect(info.bwrap).toMatch(/bwrap$/);
    if (process.getuid?.() === 0) expect(info.uid).not.toBe(0);
  });

  describe("network", () => {
    let server: Server;
    let port = 0;
    let connections = 0;
    beforeAll(async () => {
      server = createServer((s) => {
        connections++;
        s.end("hello from the host\n");
      });
      await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
      port = (server.address() as { port: number }).port;
    });
    afterAll(() => new Promise<void>((r) => server.close(() => r())));

    it("cannot connect to a port the host listens on, nor anywhere else, nor resolve names", async () => {
      const r = await py(`
import socket
for target in [("127.0.0.1", ${port}), ("10.0.0.1", 80), ("1.1.1.1", 53)]:
    try:
        s = socket.create_connection(target, timeout=2)
        print("CONNECTED", target, s.recv(100))
    except OSError as e:
        print("blocked", target, type(e).__name__)
try:
    print("RESOLVED", socket.gethostbyname("example.com"))
except OSError as e:
    print("no dns", type(e).__name__)
`);
      expect(r.status).toBe("passed");
      expect(r.stdout).not.toContain("CONNECTED");
      expect(r.stdout).not.toContain("RESOLVED");
      expect(r.stdout.match(/blocked/g)).toHaveLength(3);
      expect(connections).toBe(0);
    });

    it("JavaScript cannot connect either", async () => {
      const r = await runCode({
        language: "javascript",
        program: `const net = require("net");
await_connect: {
  const s = net.connect(${port}, "127.0.0.1");
  s.on("connect", () => { console.log("CONNECTED"); process.exit(0); });
  s.on("error", (e) => { console.log("blocked", e.code); });
}`,
      });
      expect(r.stdout).not.toContain("CONNECTED");
      expect(r.stdout).toContain("blocked");
      expect(connections).toBe(0);
    });
  });

  it("cannot read the host's files outside the sandbox", async () => {
    const r = await py(`
import os
for p in [${JSON.stringify(secretFile)}, ${JSON.stringify(repoFile)}, "/etc/shadow", "/etc/passwd", "/root/.bashrc", "/proc/1/environ"]:
    try:
        with open(p) as f:
            print("READ", p, f.read()[:200])
    except OSError as e:
        print("denied", p, type(e).__name__)
print("ROOT", sorted(os.listdir("/")))
print("ENV", dict(os.environ))
`);
    expect(r.status).toBe("passed");
    expect(all(r)).not.toContain(secret);
    for (const p of [secretFile, repoFile, "/etc/shadow", "/etc/passwd", "/root/.bashrc"]) expect(r.stdout).toContain(`denied ${p}`);
    const root = JSON.parse(/ROOT (.*)/.exec(r.stdout)![1]!.replace(/'/g, '"')) as string[];
    for (const d of ["root", "home", "work", "var", "opt", "srv", "mnt"]) expect(root).not.toContain(d);
    expect(r.stdout).not.toMatch(/ENV .*(RLXF|VITEST|NODE_OPTIONS)/);
  });

  it("cannot write outside its temp dir", async () => {
    const targets = [
      join(tmpdir(), `rlxf-escape-${tag}`),
      join(hostDir, "escape"),
      resolve(import.meta.dirname, `escape-${tag}`),
      `/usr/escape-${tag}`,
      `/etc/escape-${tag}`,
      `/escape-${tag}`,
      `/sandbox/../escape2-${tag}`,
      `/input/escape-${tag}`,
    ];
    const r = await py(`
import os
for p in ${JSON.stringify(targets)}:
    try:
        with open(p, "w") as f:
            f.write("escaped")
        print("WROTE", p)
    except OSError as e:
        print("denied", p, type(e).__name__)
with open("ok.txt", "w") as f:
    f.write("inside is fine")
print("inside", open("ok.txt").read())
`);
    expect(r.status).toBe("passed");
    expect(r.stdout).toContain("inside inside is fine");
    for (const p of targets) expect(existsSync(p), p).toBe(false);
    // /tmp inside is the sandbox's own: writing there worked but never reached the host's /tmp
    expect(existsSync(join(tmpdir(), `rlxf-escape-${tag}`))).toBe(false);
  });

  it("runs unprivileged: no setuid, no mounts, no capabilities", async () => {
    const r = await py(`
import os, subprocess
print("uid", os.getuid(), os.geteuid())
for fn in (lambda: os.setuid(0), lambda: os.chroot("/"), lambda: os.setgid(0)):
    try:
        fn(); print("ESCALATED")
    except OSError as e:
        print("denied", type(e).__name__)
p = subprocess.run(["/usr/bin/mount", "-t", "tmpfs", "none", "/sandbox"], capture_output=True, text=True)
print("mount rc", p.returncode)
print([l for l in open("/proc/self/status") if l.startswith("CapEff")][0].strip())
`);
    expect(r.status).toBe("passed");
    expect(r.stdout).not.toContain("ESCALATED");
    expect(r.stdout).not.toMatch(/uid 0 /);
    expect(r.stdout).toMatch(/mount rc [1-9]/);
    expect(r.stdout).toMatch(/CapEff:\s+0+\n/);
  });

  it("a fork bomb hits the process limit, ends, and leaves no process behind", async () => {
    const r = await py(
      `
import os, sys
print(os.readlink("/proc/self/ns/pid"), flush=True)
while True:
    try:
        os.fork()
    except OSError:
        pass
`,
      { wallMs: 3000, cpuSeconds: 2, processes: 16 },
    );
    expect(r.passed).toBe(false);
    expect(r.status).toBe("timeout");
    const ns = r.stdout.split("\n")[0]!.trim();
    expect(ns).toMatch(/^pid:\[\d+\]$/);
    // the sandbox's pid namespace is gone: nothing of the bomb survives
    expect(processesIn(ns)).toEqual([]);
    // and the host still spawns processes
    expect(spawnSync("true").status).toBe(0);
  });

  it("the process limit holds (fork fails beyond it)", async () => {
    const r = await py(
      `
import os, time
n = 0
try:
    for _ in range(200):
        if os.fork() == 0:
            time.sleep(5)
            os._exit(0)
        n += 1
except OSError as e:
    print("fork failed after", n, type(e).__name__)
`,
      { processes: 10, wallMs: 4000 },
    );
    const m = /fork failed after (\d+) BlockingIOError/.exec(r.stdout);
    expect(m, `${all(r)}\n${sandboxInfo().warnings.join("\n")}`).not.toBeNull();
    expect(Number(m![1])).toBeLessThan(10);
  });

  it("an infinite loop is stopped by the CPU limit, a sleeping one by the wall clock", async () => {
    const cpu = await py("while True:\n    pass\n", { cpuSeconds: 1, wallMs: 10_000 });
    expect(cpu).toMatchObject({ status: "timeout", limit: "cpu", passed: false });
    const wall = await py("import time\nwhile True:\n    time.sleep(1)\n", { wallMs: 1500 });
    expect(wall).toMatchObject({ status: "timeout", limit: "wall", passed: false });
  });

  it("the CPU limit is the whole sandbox's where a control group accounts it: spinning children end the run", async () => {
    // Per process (RLIMIT_CPU alone), each child would die after its own second and the parent would print.
    const program = "import os\nkids = []\nfor _ in range(3):\n    pid = os.fork()\n    if pid == 0:\n        while True:\n            pass\n    kids.append(pid)\nfor k in kids:\n    os.waitpid(k, 0)\nprint('the parent outlived its children')\n";
    const r = await py(program, { cpuSeconds: 1, wallMs: 10_000, processes: 8 });
    if (r.sandbox?.cpu !== "sandbox") return; // no control group accounting CPU time: RLIMIT_CPU, per process
    expect(r, all(r)).toMatchObject({ status: "timeout", limit: "cpu", passed: false });
    expect(r.stdout).not.toContain("outlived");
  });

  it("a memory bomb hits the memory limit", async () => {
    const at = await py("x = bytearray(8 * 1024 ** 3)\n", { memoryBytes: 256 * 1024 * 1024 });
    expect(at).toMatchObject({ status: "crashed", limit: "memory" });
    const grow = await py("xs = []\nwhile True:\n    xs.append(' ' * 10 ** 6)\n", { memoryBytes: 256 * 1024 * 1024 });
    expect(grow).toMatchObject({ status: "crashed", limit: "memory" });
    const js = await runCode({ language: "javascript", program: "const a = [];\nwhile (true) a.push(Buffer.alloc(50e6, 1));", limits: { memoryBytes: 512 * 1024 * 1024 } });
    expect(js).toMatchObject({ status: "crashed", limit: "memory" });
  });

  it("huge output is cut at the cap and ends the run", async () => {
    const r = await py("while True:\n    print('x' * 10000)\n", { outputBytes: 64 * 1024 });
    expect(r).toMatchObject({ status: "crashed", limit: "output", outputTruncated: true });
    expect(r.stdout.length + r.stderr.length).toBeLessThanOrEqual(64 * 1024);
  });

  it("filling the disk hits the file size limit or the disk quota", async () => {
    const big = await py("with open('big', 'wb') as f:\n    f.write(b'x' * (64 * 1024 * 1024))\n", { fileBytes: 1024 * 1024 });
    expect(big.status).toBe("crashed");
    expect(big.limit).toBe("disk");
    const many = await py("i = 0\nwhile True:\n    open('f%d' % i, 'w').write('x' * 1000)\n    i += 1\n", { diskFiles: 500, wallMs: 10_000 });
    expect(many).toMatchObject({ status: "crashed", limit: "disk" });
  });

  it("killing the parent, every process it can see, or a host pid does nothing outside", async () => {
    const sentinel = spawn("sleep", ["30"], { stdio: "ignore" });
    try {
      const r = await py(`
import os, signal
print("ppid", os.getppid())
for target in [os.getppid(), 1, ${sentinel.pid}, ${process.pid}]:
    try:
        os.kill(target, signal.SIGKILL); print("sent", target)
    except OSError as e:
        print("failed", target, type(e).__name__)
try:
    os.kill(-1, signal.SIGKILL)
except OSError as e:
    print("kill -1", type(e).__name__)
print("still here")
`);
      // the sentinel and this test process are alive
      expect(sentinel.exitCode).toBeNull();
      expect(sentinel.signalCode).toBeNull();
      expect(() => process.kill(sentinel.pid!, 0)).not.toThrow();
      // the program either survived its own kill -1 or died of it: never passed for the host
      expect(["passed", "crashed"]).toContain(r.status);
      if (r.stdout.includes("ppid")) expect(r.stdout).toMatch(/ppid [01]\n/);
    } finally {
      sentinel.kill("SIGKILL");
    }
  });

  it("its files are gone afterwards", async () => {
    const before = new Set(readdirSync(tmpdir()).filter((d) => d.startsWith("rlxf-sandbox-")));
    const r = await runSandboxed({ language: "python", inputs: { "p.py": "open('/sandbox/left', 'w').write('x')" }, args: ["/input/p.py"] });
    expect(r.exitCode).toBe(0);
    const after = readdirSync(tmpdir()).filter((d) => d.startsWith("rlxf-sandbox-") && !before.has(d));
    expect(after).toEqual([]);
    expect(readFileSync(secretFile, "utf8")).toBe(secret);
  });

  it("memory is limited for the sandbox as a whole: six processes of 300 MiB do not fit in 512 MiB", async () => {
    const r = await py(
      `
import os, time
kids, forked = [], 0
for _ in range(6):
    try:
        pid = os.fork()
    except OSError as e:
        print("fork failed", type(e).__name__)
        break
    if pid == 0:
        x = bytearray(300 * 1024 * 1024)
        for i in range(0, len(x), 4096):
            x[i] = 1
        time.sleep(3)
        os._exit(0)
    kids.append(pid)
ok = 0
for k in kids:
    _, st = os.waitpid(k, 0)
    ok += st == 0
print("forked", len(kids), "finished", ok)
`,
      { memoryBytes: 512 * 1024 * 1024, wallMs: 10_000 },
    );
    const m = /forked (\d+) finished (\d+)/.exec(r.stdout);
    expect(m, all(r)).not.toBeNull();
    // two at once would hold 600 MiB: at most one child ever held its 300 MiB to the end
    expect(Number(m![2])).toBeLessThanOrEqual(1);
    if (sandboxInfo().memory !== "single-process") {
      expect(Number(m![1])).toBe(6);
      expect(r.memoryPeakBytes).toBeLessThanOrEqual(512 * 1024 * 1024 + DEFAULT_LIMITS.diskBytes);
      expect(r.sandbox.memory).toMatch(/^cgroup-v[12]$/);
    } else expect(r.stdout).toContain("fork failed BlockingIOError");
  });

  it("every writable place shares one capped tmpfs: /, /dev, /tmp, /dev/shm, /sandbox and unlinked files", async () => {
    const disk = 16 * 1024 * 1024;
    const r = await py(
      `
import os
def fill(f):
    n = 0
    try:
        while True:
            f.write(b"x" * 65536)
            f.flush()
            n += 65536
    except OSError:
        pass
    return n
total = 0
for d in ("/", "/dev", "/tmp", "/dev/shm", "/sandbox", "/input"):
    n = 0
    try:
        with open(d.rstrip("/") + "/fill", "wb") as f:
            n = fill(f)
    except OSError as e:
        print("refused", d, type(e).__name__)
    print("wrote", d, n)
    total += n
f = open("/tmp/unlinked", "wb")
os.unlink("/tmp/unlinked")
for d in ("/tmp", "/dev/shm", "/sandbox"):
    try:
        os.unlink(d + "/fill")
    except OSError:
        pass
n = fill(f)
print("wrote unlinked", n)
print("TOTAL", total)
`,
      { diskBytes: disk, wallMs: 10_000 },
    );
    const wrote = Object.fromEntries([...r.stdout.matchAll(/wrote (\S+) (\d+)/g)].map((x) => [x[1], Number(x[2])]));
    for (const d of ["/", "/dev", "/input"]) expect(wrote[d], d).toBe(0);
    expect(Number(/TOTAL (\d+)/.exec(r.stdout)?.[1])).toBeLessThanOrEqual(disk);
    // after the files were removed, an unlinked file still counts, and still stops at the cap
    expect(wrote.unlinked).toBeGreaterThan(0);
    expect(wrote.unlinked).toBeLessThanOrEqual(disk);
  });

  it("no nested user namespaces, and no ptrace, mount, bpf, keyring, perf_event_open or io_uring", async () => {
    const r = await py(`
import ctypes, errno, os, subprocess
libc = ctypes.CDLL(None, use_errno=True)
def call(name, nr, *args):
    rc = libc.syscall(nr, *args)
    print(name, rc, errno.errorcode.get(ctypes.get_errno(), "?") if rc < 0 else "ok")
import platform
x86 = platform.machine() == "x86_64"
nr = dict(unshare=272, ptrace=101, mount=165, bpf=321, keyctl=250, perf_event_open=298, io_uring_setup=425, setns=308, clone3=435) if x86 else dict(unshare=97, ptrace=117, mount=40, bpf=280, keyctl=219, perf_event_open=241, io_uring_setup=425, setns=268, clone3=435)
call("unshare", nr["unshare"], 0x10000000)
call("ptrace", nr["ptrace"], 16, 1, 0, 0)
call("mount", nr["mount"], 0, 0, 0, 0, 0)
call("bpf", nr["bpf"], 0, 0, 0)
call("keyctl", nr["keyctl"], 0, 0, 0)
call("perf_event_open", nr["perf_event_open"], 0, 0, -1, -1, 0)
call("io_uring_setup", nr["io_uring_setup"], 1, 0)
call("setns", nr["setns"], 0, 0)
call("clone3", nr["clone3"], 0, 0)
p = subprocess.run(["/usr/bin/unshare", "-Ur", "id"], capture_output=True, text=True)
print("unshare-cli", p.returncode)
`);
    expect(r.status, all(r)).toBe("passed");
    for (const name of ["unshare", "ptrace", "mount", "bpf", "keyctl", "perf_event_open", "io_uring_setup", "setns"]) expect(r.stdout, name).toMatch(new RegExp(`^${name} -1 EPERM$`, "m"));
    expect(r.stdout).toMatch(/^clone3 -1 ENOSYS$/m);
    expect(r.stdout).toMatch(/^unshare-cli [1-9]/m);
    expect(r.sandbox).toMatchObject({ seccomp: true });
  });

  it("sandboxes beyond the process-wide cap wait their turn", async () => {
    const before = sandboxConfig().maxConcurrent;
    configureSandbox({ maxConcurrent: 1 });
    try {
      const program = "import time\nprint(time.monotonic())\ntime.sleep(0.3)\nprint(time.monotonic())\n";
      const runs = [py(program), py(program), py(program)];
      await new Promise((r) => setTimeout(r, 50));
      expect(sandboxLoad()).toMatchObject({ running: 1, waiting: 2, maxConcurrent: 1 });
      const spans = (await Promise.all(runs)).map((r) => r.stdout.trim().split("\n").map(Number) as [number, number]).sort((a, b) => a[0] - b[0]);
      // one at a time: each started after the one before had finished
      for (let i = 1; i < spans.length; i++) expect(spans[i]![0]).toBeGreaterThanOrEqual(spans[i - 1]![1]);
    } finally {
      configureSandbox({ maxConcurrent: before });
    }
  });

  it("limits above the ceilings are refused, naming the field and the ceiling; an operator raises them", async () => {
    let err: unknown;
    try {
      resolveSandboxLimits({ memoryBytes: 700 * 1024 * 1024, wallMs: 20_000 }, "spec.limits");
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).issues.map((i) => i.path)).toEqual(["spec.limits.memoryBytes", "spec.limits.wallMs"]);
    expect((err as ValidationError).message).toContain(`ceiling of ${DEFAULT_LIMITS.memoryBytes}`);
    await expect(py("print(1)", { memoryBytes: 700 * 1024 * 1024 })).rejects.toThrow(/limits.memoryBytes/);
    expect(resolveSandboxLimits({ memoryBytes: 64 * 1024 * 1024 }).memoryBytes).toBe(64 * 1024 * 1024);
    expect(parseSandboxLimits("memoryBytes=1GiB, wallMs=30000")).toEqual({ memoryBytes: 1024 ** 3, wallMs: 30_000 });
    expect(() => parseSandboxLimits("memory=1")).toThrow(/memoryBytes/);
    const saved = sandboxConfig().ceilings;
    try {
      configureSandbox({ ceilings: { memoryBytes: 1024 ** 3 } });
      expect(resolveSandboxLimits({ memoryBytes: 700 * 1024 * 1024 }).memoryBytes).toBe(700 * 1024 * 1024);
    } finally {
      configureSandbox({ ceilings: saved });
    }
  });

  it("without a control group, each sandbox is kept to one process (threads allowed)", async () => {
    const saved = process.env.RLXF_SANDBOX_MEMORY;
    process.env.RLXF_SANDBOX_MEMORY = "single-process";
    resetSandboxInfo();
    try {
      expect(sandboxInfo().memory).toBe("single-process");
      const r = await py(`
import os, threading, subprocess
try:
    os.fork()
    print("FORKED")
except OSError as e:
    print("fork", type(e).__name__)
try:
    subprocess.run(["/usr/bin/true"])
    print("SPAWNED")
except OSError as e:
    print("spawn", type(e).__name__)
t = threading.Thread(target=lambda: print("thread ran"))
t.start(); t.join()
`);
      expect(r.stdout).toContain("fork BlockingIOError");
      expect(r.stdout).toContain("spawn BlockingIOError");
      expect(r.stdout).toContain("thread ran");
      expect(r.sandbox.memory).toBe("single-process");
    } finally {
      if (saved === undefined) delete process.env.RLXF_SANDBOX_MEMORY;
      else process.env.RLXF_SANDBOX_MEMORY = saved;
      resetSandboxInfo();
    }
  });
});
