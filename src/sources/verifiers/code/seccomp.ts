/**
 * The sandbox's seccomp filter, as the classic BPF program bubblewrap loads with `--seccomp FD`
 * (an array of `struct sock_filter`, 8 bytes each: u16 code, u8 jt, u8 jf, u32 k, little-endian).
 *
 * A denylist in the spirit of Docker's and Flatpak's default profiles: what a program under test
 * never needs and what widens the kernel surface it can reach. Denied with EPERM: ptrace and
 * cross-process memory access, every mount and namespace call (`mount`, the new mount API,
 * `pivot_root`, `chroot`, `unshare`, `setns`, and `clone` with any CLONE_NEW* flag, so no nested
 * user namespace), `bpf`, `perf_event_open`, the keyring (`keyctl`, `add_key`, `request_key`),
 * module and kexec loading, `reboot`, swap, `acct`, clock setting, `syslog`, `userfaultfd`,
 * io_uring (its operations bypass seccomp), file handles, `kcmp`, `pidfd_getfd`, NUMA policy,
 * `ioctl(TIOCSTI/TIOCLINUX)` (typing into a terminal). `clone3` answers ENOSYS: its flags sit in
 * memory a filter cannot read, and libc then falls back to `clone`, whose flags it can. A syscall
 * of another ABI (i386 through `int 0x80`, x32) kills the process.
 *
 * With `noNewProcesses`, `fork`, `vfork` and a `clone` without CLONE_THREAD answer EAGAIN: the
 * sandbox stays one process (threads allowed), which is how memory stays bounded per sandbox where
 * no cgroup can be made (see `sandboxInfo().memory`).
 */
import { RlxfError } from "../../../errors.js";

const EPERM = 1;
const EAGAIN = 11;
const ENOSYS = 38;

const LD_W_ABS = 0x20;
const JEQ_K = 0x15;
const JGE_K = 0x35;
const JSET_K = 0x45;
const RET_K = 0x06;

const RET_ALLOW = 0x7fff0000;
const RET_KILL_PROCESS = 0x80000000;
const retErrno = (errno: number) => 0x00050000 | errno;

/** CLONE_NEWNS | NEWCGROUP | NEWUTS | NEWIPC | NEWUSER | NEWPID | NEWNET. */
const CLONE_NAMESPACES = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000;
const CLONE_THREAD = 0x00010000;
const TIOCSTI = 0x5412;
const TIOCLINUX = 0x541c;

interface Arch {
  audit: number;
  /** Syscall numbers at or above this are another ABI (x32 on x86_64). */
  abiMask?: number;
  nr: Record<string, number>;
}

const COMMON_DENIED = [
  "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
  "mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
  "unshare", "setns",
  "bpf", "perf_event_open", "userfaultfd",
  "keyctl", "add_key", "request_key",
  "kexec_load", "kexec_file_load", "init_module", "finit_module", "delete_module",
  "reboot", "swapon", "swapoff", "acct", "quotactl", "quotactl_fd", "syslog", "vhangup",
  "settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
  "lookup_dcookie", "open_by_handle_at", "name_to_handle_at", "fanotify_init", "nfsservctl",
  "io_uring_setup", "io_uring_enter", "io_uring_register",
  "mbind", "set_mempolicy", "migrate_pages", "move_pages",
];
const X86_ONLY_DENIED = ["iopl", "ioperm", "uselib", "_sysctl"];

/* Numbers from the kernel's uapi headers: asm/unistd_64.h (x86_64) and asm-generic/unistd.h (arm64). */
const X86_64: Arch = {
  audit: 0xc000003e,
  abiMask: 0x40000000,
  nr: {
    ioctl: 16, clone: 56, fork: 57, vfork: 58, ptrace: 101, syslog: 103, uselib: 134, vhangup: 153, pivot_root: 155, _sysctl: 156,
    adjtimex: 159, chroot: 161, acct: 163, settimeofday: 164, mount: 165, umount2: 166, swapon: 167, swapoff: 168, reboot: 169,
    iopl: 172, ioperm: 173, init_module: 175, delete_module: 176, quotactl: 179, nfsservctl: 180, lookup_dcookie: 212,
    clock_settime: 227, mbind: 237, set_mempolicy: 238, kexec_load: 246, add_key: 248, request_key: 249, keyctl: 250,
    migrate_pages: 256, unshare: 272, move_pages: 279, perf_event_open: 298, fanotify_init: 300, name_to_handle_at: 303,
    open_by_handle_at: 304, clock_adjtime: 305, setns: 308, process_vm_readv: 310, process_vm_writev: 311, kcmp: 312,
    finit_module: 313, kexec_file_load: 320, bpf: 321, userfaultfd: 323, io_uring_setup: 425, io_uring_enter: 426,
    io_uring_register: 427, open_tree: 428, move_mount: 429, fsopen: 430, fsconfig: 431, fsmount: 432, fspick: 433, clone3: 435,
    pidfd_getfd: 438, mount_setattr: 442, quotactl_fd: 443,
  },
};
const ARM64: Arch = {
  audit: 0xc00000b7,
  nr: {
    lookup_dcookie: 18, ioctl: 29, umount2: 39, mount: 40, pivot_root: 41, nfsservctl: 42, chroot: 51, vhangup: 58, quotactl: 60,
    acct: 89, unshare: 97, kexec_load: 104, init_module: 105, delete_module: 106, clock_settime: 112, syslog: 116, ptrace: 117,
    reboot: 142, settimeofday: 170, adjtimex: 171, add_key: 217, request_key: 218, keyctl: 219, clone: 220, swapon: 224,
    swapoff: 225, mbind: 235, set_mempolicy: 237, migrate_pages: 238, move_pages: 239, perf_event_open: 241, fanotify_init: 262,
    name_to_handle_at: 264, open_by_handle_at: 265, clock_adjtime: 266, setns: 268, process_vm_readv: 270,
    process_vm_writev: 271, kcmp: 272, finit_module: 273, bpf: 280, userfaultfd: 282, kexec_file_load: 294,
    io_uring_setup: 425, io_uring_enter: 426, io_uring_register: 427, open_tree: 428, move_mount: 429, fsopen: 430, fsconfig: 431,
    fsmount: 432, fspick: 433, clone3: 435, pidfd_getfd: 438, mount_setattr: 442, quotactl_fd: 443,
  },
};

export interface SeccompOptions {
  /** Deny fork, vfork and clone without CLONE_THREAD (EAGAIN): one process, any number of threads. */
  noNewProcesses?: boolean;
  /** `process.arch` by default. */
  arch?: string;
}

interface Insn {
  code: number;
  k: number;
  /** Labels jumped to when the test holds / fails (absent: the next instruction). */
  jt?: string;
  jf?: string;
  label?: string;
}

/** The filter's BPF program, ready to hand to `bwrap --seccomp FD`. */
export function seccompFilter(opts: SeccompOptions = {}): Buffer {
  const arch = opts.arch ?? process.arch;
  const a = arch === "x64" ? X86_64 : arch === "arm64" ? ARM64 : undefined;
  if (!a) throw new RlxfError("sandbox_unavailable", `no seccomp filter for ${arch}: the code sandbox supports x64 and arm64`);
  const p: Insn[] = [];
  const nr = (name: string) => {
    const n = a.nr[name];
    if (n === undefined) throw new Error(`seccomp: no syscall number for ${name} on ${arch}`);
    return n;
  };
  p.push({ code: LD_W_ABS, k: 4 }); // seccomp_data.arch
  p.push({ code: JEQ_K, k: a.audit, jt: "native", jf: "kill" });
  p.push({ code: LD_W_ABS, k: 0, label: "native" }); // seccomp_data.nr
  if (a.abiMask !== undefined) p.push({ code: JGE_K, k: a.abiMask, jt: "kill" });
  const denied = [...COMMON_DENIED, ...(a === X86_64 ? X86_ONLY_DENIED : [])];
  for (const name of denied) p.push({ code: JEQ_K, k: nr(name), jt: "eperm" });
  p.push({ code: JEQ_K, k: nr("clone3"), jt: "enosys" });
  if (opts.noNewProcesses && a === X86_64) {
    p.push({ code: JEQ_K, k: nr("fork"), jt: "eagain" });
    p.push({ code: JEQ_K, k: nr("vfork"), jt: "eagain" });
  }
  p.push({ code: JEQ_K, k: nr("clone"), jt: "clone" });
  p.push({ code: JEQ_K, k: nr("ioctl"), jt: "ioctl", jf: "allow" });
  // clone(flags, ...): flags are the first argument (seccomp_data.args[0], low word at offset 16).
  p.push({ code: LD_W_ABS, k: 16, label: "clone" });
  p.push({ code: JSET_K, k: CLONE_NAMESPACES, jt: "eperm" });
  if (opts.noNewProcesses) p.push({ code: JSET_K, k: CLONE_THREAD, jt: "allow", jf: "eagain" });
  else p.push({ code: RET_K, k: RET_ALLOW });
  // ioctl(fd, request, ...): the request is the second argument (offset 24); the kernel reads 32 bits of it.
  p.push({ code: LD_W_ABS, k: 24, label: "ioctl" });
  p.push({ code: JEQ_K, k: TIOCSTI, jt: "eperm" });
  p.push({ code: JEQ_K, k: TIOCLINUX, jt: "eperm", jf: "allow" });
  p.push({ code: RET_K, k: RET_ALLOW, label: "allow" });
  p.push({ code: RET_K, k: retErrno(EPERM), label: "eperm" });
  p.push({ code: RET_K, k: retErrno(EAGAIN), label: "eagain" });
  p.push({ code: RET_K, k: retErrno(ENOSYS), label: "enosys" });
  p.push({ code: RET_K, k: RET_KILL_PROCESS, label: "kill" });

  const at = new Map<string, number>();
  p.forEach((insn, i) => insn.label && at.set(insn.label, i));
  const buf = Buffer.alloc(p.length * 8);
  p.forEach((insn, i) => {
    const off = (label: string | undefined) => {
      if (label === undefined) return 0;
      const target = at.get(label);
      if (target === undefined || target <= i || target - i - 1 > 255) throw new Error(`seccomp: bad jump to ${label} at ${i}`);
      return target - i - 1;
    };
    buf.writeUInt16LE(insn.code, i * 8);
    buf.writeUInt8(off(insn.jt), i * 8 + 2);
    buf.writeUInt8(off(insn.jf), i * 8 + 3);
    buf.writeUInt32LE(insn.k >>> 0, i * 8 + 4);
  });
  return buf;
}

/** The syscalls the filter denies (for documentation and tests). */
export function deniedSyscalls(arch = process.arch): string[] {
  return [...COMMON_DENIED, ...(arch === "x64" ? X86_ONLY_DENIED : [])];
}
