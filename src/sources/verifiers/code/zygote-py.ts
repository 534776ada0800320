/**
 * The Python fork server (`zygote.ts`): a trusted interpreter, started once in its own bubblewrap
 * sandbox, that never runs a program itself. For each run it forks a child that builds the run's
 * own sandbox inside its own (fresh mount, pid, network, IPC and UTS namespaces; a fresh capped
 * tmpfs for `/sandbox`, `/tmp` and `/dev/shm`; the run's inputs on a read-only tmpfs at `/input`;
 * a fresh `/proc`), forks that namespace's init, which forks the program's process. The program's
 * process sets its limits, drops every capability, sets no_new_privs, loads the seccomp filter and
 * only then runs the script (`runpy`), in an interpreter that was already started: what is saved
 * per run is the interpreter's start-up, which dominates short programs.
 *
 * Requests come on fd 0 (`<bytes>\n<json>`), read by the forked child, never by the server, so no
 * run's data is in the memory a later run is forked from. After a run the server writes an end
 * marker with a fresh random nonce to fds 1, 2 and 3 (stdout, stderr, the result channel), then
 * `end <code> <nonce>` on fd 4: the host cuts each stream at the marker, which no program can
 * forge (it is drawn after the program's namespace is gone). fd 5 holds the seccomp program.
 */
export const ZYGOTE_PY = String.raw`
import ctypes, json, os, resource, runpy, signal, sys, threading, atexit, traceback

libc = ctypes.CDLL(None, use_errno=True)
libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
libc.unshare.argtypes = [ctypes.c_int]
libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]

NEW_NS = 0x00020000 | 0x04000000 | 0x08000000 | 0x20000000 | 0x40000000  # mount, uts, ipc, pid, net
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT, MS_REC, MS_PRIVATE = 1, 2, 4, 8, 32, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_SECCOMP, PR_SET_NO_NEW_PRIVS, PR_CAP_AMBIENT = 1, 22, 38, 47
STATUS = 4


def ok(r, what):
    if r != 0:
        e = ctypes.get_errno()
        raise OSError(e, "%s: %s" % (what, os.strerror(e)))


def read_all(fd):
    out = []
    while True:
        b = os.read(fd, 65536)
        if not b:
            return b"".join(out)
        out.append(b)


FILTER = read_all(5)
os.close(5)
ZYGOTE = os.getpid()


class Fprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_char_p)]


class CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def die_with_parent(parent):
    ok(libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl(PDEATHSIG)")
    if os.getppid() != parent:
        os._exit(125)


def read_request():
    head = b""
    while not head.endswith(b"\n"):
        b = os.read(0, 1)
        if not b or len(head) > 20:
            os._exit(0)  # the host closed the pipe: retire
        head += b
    n, parts = int(head), []
    while n > 0:
        b = os.read(0, min(n, 1 << 20))
        if not b:
            os._exit(0)
        parts.append(b)
        n -= len(b)
    return json.loads(b"".join(parts))


def code_of(status):
    return os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status)


def wait_for(pid):
    """Waits for pid, reaping any other child (orphans, as init); its exit code, or 128 + signal."""
    while True:
        try:
            got, status = os.wait()
        except ChildProcessError:
            return 125
        if got == pid:
            return code_of(status)


def program(req):
    """The run's program process: pid 2 of the run's namespace."""
    die_with_parent(1)
    # Its own session and process group: kill(0, ...) reaches nothing but the program's own processes.
    os.setsid()
    signal.signal(signal.SIGINT, signal.default_int_handler)
    lim = req["limits"]
    fd = os.memfd_create("stdin", 0)
    os.write(fd, req["stdin"].encode("utf-8"))
    os.lseek(fd, 0, os.SEEK_SET)
    os.dup2(fd, 0)
    os.close(fd)
    os.closerange(4, 1 << 16)
    os.chdir("/sandbox")
    os.environ.clear()
    os.environ.update(req["env"])
    for res, soft, hard in (
        (resource.RLIMIT_CPU, lim["cpu"], lim["cpu"] + 1),
        (resource.RLIMIT_AS, lim["as"], lim["as"]),
        (resource.RLIMIT_NPROC, lim["nproc"], lim["nproc"]),
        (resource.RLIMIT_FSIZE, lim["fsize"], lim["fsize"]),
        (resource.RLIMIT_NOFILE, lim["nofile"], lim["nofile"]),
        (resource.RLIMIT_CORE, 0, 0),
    ):
        resource.setrlimit(res, (soft, hard))
    # Every capability gone (the server's CAP_SYS_ADMIN included), for good: no_new_privs, then the filter.
    head, data = CapHeader(0x20080522, 0), (CapData * 2)()
    ok(libc.capset(ctypes.byref(head), ctypes.byref(data)), "capset")
    ok(libc.prctl(PR_CAP_AMBIENT, 4, 0, 0, 0), "prctl(CAP_AMBIENT_CLEAR_ALL)")
    ok(libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(NO_NEW_PRIVS)")
    prog = Fprog(len(FILTER) // 8, FILTER)
    ok(libc.prctl(PR_SET_SECCOMP, 2, ctypes.addressof(prog), 0, 0), "prctl(SECCOMP)")
    if "random" in sys.modules:
        sys.modules["random"].seed()
    sys.argv = list(req["args"])
    code = 0
    try:
        runpy.run_path(sys.argv[0], run_name="__main__")
    except SystemExit as e:
        if e.code is None:
            code = 0
        elif isinstance(e.code, int):
            code = e.code & 0xFF
        else:
            print(e.code, file=sys.stderr)
            code = 1
    except BaseException:
        sys.excepthook(*sys.exc_info())
        code = 1
    # What the interpreter does on its way out: wait for threads, run atexit, flush.
    try:
        threading._shutdown()
    except BaseException:
        pass
    try:
        atexit._run_exitfuncs()
    except BaseException:
        pass
    for s in (sys.stdout, sys.stderr):
        try:
            s.flush()
        except BaseException:
            pass
    os._exit(code)


def init(req, alive):
    """Pid 1 of the run's namespace: mounts its /proc, forks the program, reaps, exits with its code."""
    # Its parent is outside the namespace (getppid says 0): the pipe tells whether the parent still lives.
    ok(libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0), "prctl(PDEATHSIG)")
    os.set_blocking(alive, False)
    try:
        if os.read(alive, 1) == b"":
            os._exit(125)
    except BlockingIOError:
        pass
    os.close(alive)
    os.setsid()
    # As the namespace's init, a signal the program sends it without a handler is ignored.
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    ok(libc.mount(b"proc", b"/proc", b"proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, None), "mount /proc")
    pid = os.fork()
    if pid == 0:
        program(req)
    os._exit(wait_for(pid))


def runner():
    """The run's first process: reads the request, makes the run's namespaces and file systems."""
    die_with_parent(ZYGOTE)
    os.close(STATUS)
    req = read_request()
    os.close(0)
    os.open("/dev/null", os.O_RDONLY)
    lim = req["limits"]
    try:
        ok(libc.unshare(NEW_NS), "unshare")
        ok(libc.mount(b"none", b"/", None, MS_REC | MS_PRIVATE, None), "mount --make-rprivate /")
        opts = "mode=1777,size=%d,nr_inodes=%d" % (lim["disk"], lim["files"] + 16)
        ok(libc.mount(b"tmpfs", b"/sandbox", b"tmpfs", MS_NOSUID | MS_NODEV, opts.encode()), "mount /sandbox")
        os.umask(0)
        os.mkdir("/sandbox/tmp", 0o1777)
        os.mkdir("/sandbox/.shm", 0o1777)
        os.umask(0o022)
        size = sum(len(v.encode("utf-8")) + 4096 for v in req["inputs"].values()) + 65536
        ok(libc.mount(b"tmpfs", b"/input", b"tmpfs", MS_NOSUID | MS_NODEV, b"mode=0755,size=%d" % size), "mount /input")
        for name, text in req["inputs"].items():
            f = os.open("/input/" + name, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o444)
            os.write(f, text.encode("utf-8"))
            os.close(f)
        ok(libc.mount(None, b"/input", None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, None), "remount /input")
    except OSError as e:
        os.write(2, ("rlxf-sandbox: %s\n" % e).encode())
        os._exit(125)
    alive, keep = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(keep)
        init(req, alive)
    os.close(alive)
    os._exit(wait_for(pid))


os.write(STATUS, b"ready\n")
while True:
    pid = os.fork()
    if pid == 0:
        try:
            runner()
        except BaseException:
            traceback.print_exc()
        os._exit(125)
    code = wait_for(pid)
    nonce = os.urandom(16).hex().encode()
    for fd in (1, 2, 3):
        os.set_blocking(fd, True)  # a program may have made the shared pipe non-blocking
        os.write(fd, b"\0rlxf-end:" + nonce + b"\0")
    os.write(STATUS, b"end %d %s\n" % (code, nonce))
`;
