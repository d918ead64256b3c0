/*
 * OP_LOOKUP and OP_EXEC: find the program inside the new root with the container's own PATH (the one in its env
 * list), as execvpe would, then execve. The lookup runs before the exec.fifo wait so that `create` reports a
 * missing program; the error texts are runc's, which podman maps to exit 127 ("executable file not found in",
 * "no such file or directory") and 126 ("permission denied").
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "executor.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static char *g_looked_up;    /* the name OP_LOOKUP was given */
static char *g_resolved;     /* what it resolved to */

/* Ignored signals and the signal mask survive execve; the container's process must start from defaults. */
void reset_signals(void) {
  sigset_t all;
  for (int sig = 1; sig < NSIG; sig++) signal(sig, SIG_DFL); /* SIGKILL, SIGSTOP, 32, 33 just fail */
  sigemptyset(&all);
  sigprocmask(SIG_SETMASK, &all, NULL);
}

static const char *env_path(char **env) {
  for (char **e = env; *e; e++)
    if (!strncmp(*e, "PATH=", 5)) return *e + 5;
  return DEFAULT_PATH;
}

/* 0 when path is an executable regular file, else -1 with errno (EACCES for a directory, as exec would say). */
static int executable(const char *path) {
  struct stat st;
  if (stat(path, &st) < 0) return -1;
  if (!S_ISREG(st.st_mode)) {
    errno = EACCES;
    return -1;
  }
  return access(path, X_OK);
}

/* Each PATH entry in turn; like execvpe, EACCES anywhere wins over ENOENT. Returns a malloc'd path or NULL. */
static char *search(const char *file, char **env) {
  const char *path = env_path(env);
  int saw_eacces = 0;
  char buf[4096];
  for (const char *p = path;; p++) {
    const char *end = strchr(p, ':');
    size_t dlen = end ? (size_t)(end - p) : strlen(p);
    /* An empty entry means the current directory. */
    int n = dlen ? snprintf(buf, sizeof buf, "%.*s/%s", (int)dlen, p, file) : snprintf(buf, sizeof buf, "%s", file);
    if (n > 0 && (size_t)n < sizeof buf) {
      if (executable(buf) == 0) return strdup(buf);
      if (errno == EACCES) saw_eacces = 1;
    }
    if (!end) break;
    p = end;
  }
  errno = saw_eacces ? EACCES : ENOENT;
  return NULL;
}

static char *resolve(const char *path, char **env) {
  if (strchr(path, '/')) {
    if (executable(path) == 0) return strdup(path);
    if (errno == EACCES) fail_status(126, "exec: \"%s\": permission denied", path);
    fail_status(127, "exec: \"%s\": stat %s: %s", path, path, errno == ENOENT ? "no such file or directory" : strerror(errno));
  }
  char *found = search(path, env);
  if (found) return found;
  if (errno == EACCES) fail_status(126, "exec: \"%s\": permission denied", path);
  fail_status(127, "exec: \"%s\": executable file not found in $PATH", path);
}

void op_lookup(const struct op *op) {
  unsigned i = 1;
  const char *path = op_str(op, 0);
  char **env = op_strv(op, &i);
  g_resolved = resolve(path, env);
  g_looked_up = strdup(path);
}

void op_exec(const struct op *op) {
  unsigned i = 1;
  const char *path = op_str(op, 0);
  char **argv = op_strv(op, &i);
  char **env = op_strv(op, &i);
  const char *file = g_looked_up && !strcmp(g_looked_up, path) ? g_resolved : NULL;
  if (!file) file = resolve(path, env);
  reset_signals();
  execve(file, argv, env);
  if (errno == ENOENT || errno == ENOTDIR) fail_status(127, "exec: \"%s\": no such file or directory", path);
  if (errno == EACCES) fail_status(126, "exec: \"%s\": permission denied", path);
  fail("exec %s", path);
}
