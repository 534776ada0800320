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
import { runCode, runSandboxed, sandboxInfo } from "./index.js";

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
});
