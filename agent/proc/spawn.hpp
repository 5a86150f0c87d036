// Starting a helper process from the agent (a script check, git, a CNI plugin, a template's
// change script) without copying the agent. glibc's posix_spawn clones the calling thread
// with CLONE_VM | CLONE_VFORK on a stack of its own: no page tables are copied, and the
// agent's threads take no copy-on-write faults afterwards, as they do after a fork of the
// whole agent (~690 faults per fork of the bench's agent; docs/design.md, "Process model").
// glibc also sets every handler back to its default in the child before any signal is
// unblocked, which a hand-written vfork child cannot promise.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "drover/common/result.hpp"

namespace drover::proc {

struct SpawnRequest {
  std::string exe;                  // a path; a bare name with search_path
  bool search_path = false;         // look exe up in the agent's PATH, as execvp does
  std::vector<std::string> argv;    // argv[0] included; empty: {exe}
  std::vector<std::string> env;     // KEY=VALUE: the whole environment, nothing of the agent's
  std::string dir;                  // working directory; empty: the agent's
  bool own_process_group = false;   // setpgid(0, 0): kill(-pid) reaches all it started
  int in = -1, out = -1, err = -1;  // the child's fds 0, 1, 2; -1: /dev/null
};

// Starts the child with an empty signal mask, every signal at its default and no fd above 2.
// Its pid, or why it could not run (exe missing or not executable, dir missing), which glibc
// learns from the child before returning.
Result<pid_t> spawn(const SpawnRequest& req);

// A close-on-exec pipe whose ends close with it: a child's stdin, stdout or stderr.
struct Pipe {
  int r = -1, w = -1;
  Pipe();
  ~Pipe();
  Pipe(const Pipe&) = delete;
  Pipe& operator=(const Pipe&) = delete;
  bool ok() const { return r >= 0; }
  void close_read();
  void close_write();
};

// Reads a child's stdout and stderr until each reaches EOF, both at once: neither pipe can
// fill up and stall the child while the other is read.
void read_both(int fd_out, int fd_err, std::string& out, std::string& err);

// Waits for pid (retrying on EINTR). The exit code as a shell says it, 128+N when signal N
// ended it; -1 when it cannot be waited for.
int wait_exit_code(pid_t pid);

}  // namespace drover::proc
