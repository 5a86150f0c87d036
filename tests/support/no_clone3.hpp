// A kernel without clone3, for tests: a seccomp filter that makes clone3 fail with ENOSYS in
// the calling process and everything it execs, as on Linux < 5.3. glibc falls back to clone
// for its own spawns; drover-monitor falls back to fork + cgroup.procs (monitor/README.md).
#pragma once

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>

namespace drover::test_support {

// x86_64 syscall numbers: the tests run where they were built. Async-signal-safe (for a
// child between fork and exec). false when the filter could not be set.
inline bool refuse_clone3() {
  sock_filter f[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone3, 0, 1),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
  sock_fprog prog{static_cast<unsigned short>(sizeof f / sizeof f[0]), f};
  return prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0 &&
         syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) == 0;
}

}  // namespace drover::test_support
