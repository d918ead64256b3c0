/*
 * The wire between tsrun (Node) and tsrun-exec (this C executor).
 *
 * TypeScript decides, C executes: @tsrun/libcontainer compiles the OCI spec into a *plan*, a flat list of
 * operations; the executor runs them in order and holds no policy of its own. The TypeScript twin of this file is
 * packages/libcontainer/src/plan-codec.ts; change both together.
 *
 * Channel: the executor finds its channels in inherited fds named by environment variables:
 *   _TSRUN_INITPIPE  SOCK_STREAM unix socket to tsrun (frames below, both ways)            required
 *   _TSRUN_CONSOLE   unix socket on which OP_CONSOLE sends the pty master (SCM_RIGHTS)      optional
 *   _TSRUN_FIFOFD    O_PATH fd of <state>/exec.fifo, reopened O_WRONLY by OP_FIFO_WAIT       optional
 *   _TSRUN_PRESERVE_FDS  N: fds 3 .. 3+N-1 are the user's (--preserve-fds) and stay open across exec      optional
 *   _TSRUN_LOGLEVEL  "debug" makes the executor log each op to stderr-equivalent frames     optional
 * Everything else from fd 3 up is marked close-on-exec as the executor starts.
 *
 * Frames, both directions: u32 type, u32 length (little-endian), then `length` bytes of payload.
 *   tsrun -> exec   FRAME_PLAN    payload = ops (below); sent once, first
 *                   FRAME_OK      answers FRAME_SYNC; a non-empty payload becomes the stdin of later OP_HOOKs
 *                                 (the container state JSON, which needs the init's pid)
 *                   FRAME_ABORT   text; answers FRAME_SYNC: the executor exits 1 without sending more
 *   exec -> tsrun   FRAME_PID     u32 pid of the container init (host pid namespace), sent by stage 0 right
 *                                 after the clone, before the ops against the child, so tsrun can reap the init
 *                                 (its child, by CLONE_PARENT) even when a map write fails
 *                   FRAME_SYNC    text label from OP_SYNC; the executor blocks until FRAME_OK or FRAME_ABORT
 *                   FRAME_ERROR   text "<what failed>: <strerror>" e.g. "mount proc on /proc: Operation not
 *                                 permitted"; the sender exits 1 right after (OP_EXEC: 127 or 126, see there);
 *                                 stage 0 failing after the clone SIGKILLs the not yet released init first
 *                   FRAME_LOG     text; a debug line
 *                   FRAME_SECCOMP_FD  u32: the number, in the init's fd table, of a seccomp notification listener
 *                                 that OP_SECCOMP got; tsrun copies it with pidfd_getfd(2), passes it on to the
 *                                 profile's listenerPath, and answers FRAME_OK (or FRAME_ABORT); the executor then
 *                                 closes its own copy, so the container's process never holds it
 * The channel reaching EOF on tsrun's side means the init exec'd (the fd is close-on-exec) or died.
 *
 * An op: u16 opcode, u16 argc, then argc args, each u32 length + bytes. Integer args are 8-byte little-endian
 * (signed or unsigned as the op says); strings are raw bytes with no NUL (the executor adds one).
 *
 * Stages. The process tsrun spawns is stage 0. It runs the STAGE0 ops, up to OP_CLONE, in its own namespaces.
 * OP_CLONE clones the init (flags | CLONE_PARENT, so init is a sibling of stage 0 and a child of tsrun); stage 0
 * sends FRAME_PID, runs the ops between OP_CLONE and OP_INIT_BEGIN against the child (id maps, written from
 * outside), releases the child (a pipe), and exits 0. The init runs the ops after OP_INIT_BEGIN. Ops before OP_CLONE that
 * would need the child (OP_UIDMAP, ...) are an error, and so are init ops there (a mount before the clone would
 * land in tsrun's own namespaces). Without OP_CLONE (exec into a running container, later),
 * stage 0 runs every op itself.
 */
#ifndef TSRUN_PROTOCOL_H
#define TSRUN_PROTOCOL_H

enum frame_type {
  FRAME_PLAN = 1,
  FRAME_OK = 2,
  FRAME_ABORT = 3,
  FRAME_PID = 10,
  FRAME_SYNC = 11,
  FRAME_ERROR = 12,
  FRAME_LOG = 13,
  FRAME_SECCOMP_FD = 14,
};

enum op_code {
  /* --- stage 0, before the clone --- */
  OP_SETNS = 1,          /* path, i64 nstype: setns(open(path), nstype) */
  OP_OOM_SCORE_ADJ = 2,  /* string: written to /proc/self/oom_score_adj (inherited by the init) */
  OP_CLONE = 3,          /* i64 clone flags (CLONE_NEW*); CLONE_PARENT and SIGCHLD are added */
  /* --- stage 0, against the cloned child --- */
  OP_SETGROUPS = 4,      /* string "deny" or "allow": /proc/<pid>/setgroups */
  OP_UIDMAP = 5,         /* string: /proc/<pid>/uid_map contents */
  OP_GIDMAP = 6,         /* string: /proc/<pid>/gid_map contents */
  OP_INIT_BEGIN = 7,     /* marks where the init's own ops start */

  /* --- init --- */
  OP_SYNC = 20,          /* string label: send FRAME_SYNC, wait for FRAME_OK (FRAME_ABORT: exit 1) */
  OP_PDEATHSIG = 21,     /* i64 signal (0 clears): prctl(PR_SET_PDEATHSIG) */
  OP_SETSID = 22,        /* no args */
  OP_SETID_ROOT = 23,    /* no args: setresgid/setresuid(0) and setgroups(0) inside a fresh user namespace
                            (setgroups skipped when /proc/self/setgroups is "deny", as runc) */
  OP_MOUNT = 24,         /* source, target, fstype, i64 flags, data: mount(2); empty strings become NULL */
  OP_MKDIR_ALL = 25,     /* path, i64 mode: mkdir -p, existing dirs are fine */
  OP_MKNOD = 26,         /* path, i64 mode (S_IFCHR|perm ...), i64 dev (makedev), i64 uid, i64 gid */
  OP_SYMLINK = 27,       /* target, linkpath: EEXIST is fine */
  OP_TOUCH = 28,         /* path, i64 mode: create a regular file if absent (a bind-mount target) */
  OP_CHDIR = 29,         /* path: chdir (with a root: opened inside it, then fchdir), then the kernel's getcwd
                            must be a path, not "(unreachable)/...": a cwd reached through an fd from outside the
                            root is an error (CVE-2024-21626, runc's verifyCwd) */
  OP_PIVOT_ROOT = 30,    /* path of the new root: pivot_root(".", ".") dance, old root detached; an OP_ROOT root
                            becomes "/" */
  OP_MOVE_ROOT = 31,     /* path of the new root: --no-pivot: mount --move to / then chroot("."); as above */
  OP_WRITE_FILE = 32,    /* path, contents: open O_WRONLY|O_TRUNC (sysctls under /proc/sys) */
  OP_SETHOSTNAME = 33,   /* name */
  OP_SETDOMAINNAME = 34, /* name */
  OP_MASK_PATH = 35,     /* path[, tmpfs data]: bind /dev/null over a file, read-only tmpfs (with the data, e.g. an
                            SELinux context) over a dir; absent is fine. With a root the last component is not
                            followed (a symlink there is covered itself) and /dev/null must be the 1:3 device */
  OP_READONLY_PATH = 36, /* path: bind it on itself and remount read-only; absent is fine */
  OP_LOOPBACK_UP = 37,   /* no args: bring "lo" up in the current network namespace */
  OP_CONSOLE = 38,       /* ptmx path, i64 rows, i64 cols, i64 bind_console: open a pty from the container's
                            devpts (the ptmx must be devpts' inode 2, device 5:2, the slave a devpts device of
                            major 136-143, /dev/console a file or a char device, else an error), size it, bind the slave on /dev/console if asked, send the master to
                            _TSRUN_CONSOLE (one message, one fd, the slave's name as payload), close that socket,
                            make the slave the controlling terminal and fds 0, 1, 2 */
  OP_RLIMIT = 39,        /* i64 resource, i64 soft, i64 hard (-1 = RLIM_INFINITY) */
  OP_UMASK = 40,         /* i64 mask */
  OP_NO_NEW_PRIVS = 41,  /* no args */
  OP_CAP_BOUNDING = 42,  /* i64 mask of caps to KEEP in the bounding set; others are dropped */
  OP_SETUSER = 43,       /* i64 uid, i64 gid, i64 n, then n × i64 additional gids; keeps caps across it;
                            with n = 0 and setgroups "deny" the groups are left alone, as runc */
  OP_CAPS = 44,          /* i64 effective, i64 permitted, i64 inheritable, i64 ambient (masks) */
  OP_FIFO_WAIT = 45,     /* no args: close the init channel (tsrun's create sees EOF: setup succeeded), then open /proc/self/fd/$_TSRUN_FIFOFD O_WRONLY (blocks until start), write "0" */
  OP_CLOSE_FROM = 46,    /* i64 first: mark fds >= first close-on-exec (close_range) */
  OP_EXEC = 47,          /* path, i64 argc, argv..., i64 envc, env...: execve; a path without '/' is looked up in
                            the PATH of env, as execvpe does; ENOENT reads "exec: <path>: no such file or
                            directory" and exit 127, EACCES "... permission denied" and exit 126 */
  OP_STDIO_BLOCKING = 48, /* no args: clear O_NONBLOCK on 0, 1, 2 (a relay may have set it on our pipes) */
  OP_LOOKUP = 50,        /* path, i64 envc, env...: resolve the program now, as OP_EXEC would, so a missing or
                            non-executable one fails `create` rather than `start`; OP_EXEC of the same path then
                            uses the result. Errors as runc's: 'exec: "sh2": executable file not found in $PATH',
                            'exec: "/x": stat /x: no such file or directory' (exit 127), '... permission denied' (126) */
  OP_HOOK = 49,          /* label, path, i64 timeout_s (0 = none), i64 argc, argv..., i64 envc, env...: fork, exec with
                            the current hook stdin (see FRAME_OK) on its stdin, wait; a non-zero exit, a signal or
                            the timeout (SIGKILL) is an error "<label> hook <path>: ..." */
  OP_SECCOMP = 51,       /* program, i64 flags: seccomp(SECCOMP_SET_MODE_FILTER, flags, program), the program being
                            raw struct sock_filter bytes (NULs allowed); with SECCOMP_FILTER_FLAG_NEW_LISTENER the
                            listener fd goes to tsrun by FRAME_SECCOMP_FD. Without no_new_privs this needs
                            CAP_SYS_ADMIN, so tsrun places it before the capabilities are dropped */
  OP_ROOT = 52,          /* path: the resolution root. From here on the target paths of OP_MOUNT, OP_MKDIR_ALL,
                            OP_MKNOD, OP_SYMLINK (the link), OP_TOUCH, OP_CHDIR, OP_WRITE_FILE, OP_MASK_PATH,
                            OP_READONLY_PATH, OP_CONSOLE and OP_MOUNT_COPYUP must lie under it (else the plan is
                            refused) and are resolved inside it at the moment of use, with openat2(RESOLVE_IN_ROOT |
                            RESOLVE_NO_MAGICLINKS) on an fd of it: a symlink in the image, or one swapped in by a
                            racing process, cannot lead outside (CVE-2019-16884, CVE-2021-30465). The syscall then
                            acts on the opened fd: mount(2) onto /proc/self/fd/<fd> (the plain path after
                            pivot_root into a container without /proc), mkdirat/mknodat/symlinkat/openat in the
                            opened parent. Mount sources are not resolved (they are host paths, tsrun's). Set it
                            after the rootfs is a mount of its own (an fd taken before the bind would resolve in the
                            covered directory) */
  OP_MOUNT_COPYUP = 53,  /* source, target, fstype, i64 flags, data: a new mount (no bind, remount, move or
                            propagation flag: a plan error) over the directory `target`, which then gets the
                            directory's old content copied in (tmpcopyup): files with their data, directories,
                            symlinks as links, devices, fifos and sockets, each with its owner, mode and times;
                            the mount's root takes the directory's permission bits. The directory is opened (in the
                            root, last component not followed) before the mount and that fd still reads the covered
                            content; the copy walks it with openat & co., one component at a time, never following a
                            link. Resolved like OP_MOUNT's target under OP_ROOT */
  OP_UNSHARE = 54,       /* i64 CLONE_NEW* flags: unshare(2) in the init. For the cgroup namespace, which must be
                            made after the init joined its cgroups (the sync where tsrun does that), or its root
                            would be tsrun's cgroup, as runc */
  OP_SESSION_KEYRING = 55, /* name, i64 searchable: keyctl(KEYCTL_JOIN_SESSION_KEYRING, name), so the container does
                            not share tsrun's session keyring (runc's default); with searchable != 0 the new keyring
                            also gets its user's search permission, so a later `exec` can join it by name. ENOSYS
                            (a kernel without keyrings) is not an error, as in runc */
};

#endif
