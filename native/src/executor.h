/* Shared declarations of tsrun-exec. One concern per .c file; this header only ties them together. */
#ifndef TSRUN_EXECUTOR_H
#define TSRUN_EXECUTOR_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* --- frame.c: the channel to tsrun and error reporting --- */
struct frame {
  uint32_t type;
  uint32_t len;
  char *payload; /* NUL-terminated copy, so text payloads can be used as C strings */
};
extern int g_chan;      /* _TSRUN_INITPIPE */
extern pid_t g_victim;  /* stage 0: the cloned child, killed if stage 0 fails before releasing it */
extern int g_debug;     /* _TSRUN_LOGLEVEL=debug */
int frame_send(uint32_t type, const void *payload, uint32_t len);
int frame_recv(struct frame *f); /* 0 ok, -1 with errno (0 = EOF) */
void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Report "<what>: <strerror(errno)>" as FRAME_ERROR and exit 1. */
_Noreturn void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Report the text as is and exit with the given status. */
_Noreturn void fail_status(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* --- plan.c: decoding --- */
struct arg {
  char *p; /* NUL-terminated copy */
  uint32_t len;
};
struct op {
  uint16_t code;
  uint16_t argc;
  struct arg *args;
};
struct plan {
  struct op *ops;
  size_t n;
};
void plan_decode(const char *buf, size_t len, struct plan *plan);
const char *op_name(uint16_t code);
const char *op_str(const struct op *op, unsigned i);
int64_t op_int(const struct op *op, unsigned i);
const struct arg *op_bytes(const struct op *op, unsigned i); /* raw bytes, NULs allowed (a BPF program) */
/* A list is i64 count then count strings starting at *i; returns a NULL-terminated array, advances *i. */
char **op_strv(const struct op *op, unsigned *i);

/* --- ops.c: dispatch of the init ops --- */
void run_op(const struct op *op);

/* --- util.c --- */
int env_fd(const char *name); /* -1 when unset */
void write_file(const char *path, const char *data, size_t len, const char *what);
void cloexec_from(unsigned first);

/* --- inroot.c: targets resolved inside the resolution root (OP_ROOT) --- */
#define FD_PATH_MAX 32
void root_set(const char *path);
int root_active(void);
void root_after_switch(void); /* after pivot_root/move: an active root becomes the new "/" */
/* open(2) of `path` (absolute) resolved inside the root with RESOLVE_IN_ROOT|RESOLVE_NO_MAGICLINKS; a plain open
 * when no root is set. O_CLOEXEC is added. -1 with errno. */
int open_in_root(const char *path, int flags, mode_t mode);
/* The part of an absolute path below the root ("." for the root); a path outside it fails the plan. */
const char *below_root(const char *path);
/* openat2 of a path relative to the root, resolved as above. */
int open_below_root(const char *rel, int flags, mode_t mode);
/* O_PATH fd of the directory holding `path`, resolved as above; *base is the last component. */
int open_parent_in_root(const char *path, const char **base);
/* "/proc/self/fd/<fd>", or `fallback` when this process has no /proc/self/fd (a container without /proc). */
const char *fd_path(int fd, char buf[FD_PATH_MAX], const char *fallback);
/* A syscall target: with a root set, `path` is opened (O_PATH | flags, e.g. O_NOFOLLOW) inside it and .path names
 * that fd; without one, .path is `path` as given. */
struct tgt {
  int fd;
  const char *path;
  char buf[FD_PATH_MAX];
};
int tgt_open(struct tgt *t, const char *path, int flags); /* -1 with errno */
void tgt_close(struct tgt *t);

/* --- per-concern op implementations --- */
void op_setns(const struct op *op);          /* ops_ns.c */
void op_loopback_up(void);                    /* ops_ns.c */
void op_unshare(const struct op *op);        /* ops_ns.c */
void op_session_keyring(const struct op *op); /* ops_keyring.c */
void op_mount(const struct op *op);          /* ops_mount.c */
void op_pivot_root(const struct op *op);
void op_move_root(const struct op *op);
void op_mask_path(const struct op *op);
void op_chdir(const struct op *op);
void op_readonly_path(const struct op *op);
void op_mount_copyup(const struct op *op);  /* ops_copyup.c */
void op_mkdir_all(const struct op *op);      /* ops_fs.c */
void op_mknod(const struct op *op);
void op_symlink(const struct op *op);
void op_touch(const struct op *op);
void op_cap_bounding(const struct op *op);   /* ops_user.c */
void op_setid_root(void);
void op_setuser(const struct op *op);
void op_caps(const struct op *op);
void op_console(const struct op *op);        /* console.c */
void op_lookup(const struct op *op);         /* exec.c */
void op_exec(const struct op *op);
void op_hook(const struct op *op);           /* hook.c */
void op_sync(const struct op *op);
void op_seccomp(const struct op *op);        /* seccomp.c */
void reset_signals(void);                     /* exec.c: dispositions to SIG_DFL, mask empty */

#endif
