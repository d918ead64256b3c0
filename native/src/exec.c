/*
 * OP_EXEC: the last op. PATH lookup happens here, inside the new root, with the container's own PATH (the one in
 * its env list), as execvpe would. The error texts are the ones podman and friends parse: "no such file or
 * directory" becomes exit 127, "permission denied" 126.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "executor.h"

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

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

/* Try each PATH entry; like execvpe, EACCES anywhere wins over ENOENT, and other errors stop the search. */
static void exec_search(const char *file, char **argv, char **env) {
  const char *path = env_path(env);
  int saw_eacces = 0;
  char buf[4096];
  for (const char *p = path;; p++) {
    const char *end = strchr(p, ':');
    size_t dlen = end ? (size_t)(end - p) : strlen(p);
    /* An empty entry means the current directory. */
    int n = dlen ? snprintf(buf, sizeof buf, "%.*s/%s", (int)dlen, p, file) : snprintf(buf, sizeof buf, "%s", file);
    if (n > 0 && (size_t)n < sizeof buf) {
      execve(buf, argv, env);
      if (errno == EACCES) saw_eacces = 1;
      else if (errno != ENOENT && errno != ENOTDIR) return;
    }
    if (!end) break;
    p = end;
  }
  errno = saw_eacces ? EACCES : ENOENT;
}

void op_exec(const struct op *op) {
  unsigned i = 1;
  const char *path = op_str(op, 0);
  char **argv = op_strv(op, &i);
  char **env = op_strv(op, &i);
  reset_signals();
  if (strchr(path, '/')) execve(path, argv, env);
  else exec_search(path, argv, env);
  if (errno == ENOENT || errno == ENOTDIR) fail_status(127, "exec: %s: no such file or directory", path);
  if (errno == EACCES) fail_status(126, "exec: %s: permission denied", path);
  fail("exec: %s", path);
}
