// The kill loop shared by v1 and v2 (v2 without cgroup.kill): freeze, SIGKILL every pid,
// thaw, until the cgroup is empty. Freezing first means a fork bomb cannot add pids between
// the read of cgroup.procs and the kills; thawing lets the killed processes die.
#include <signal.h>

#include <chrono>
#include <thread>

#include "hierarchy.hpp"

namespace drover::cgroups {

Status kill_loop(const std::string& what, const std::function<std::vector<pid_t>()>& list_pids,
                 const std::function<Status()>& freeze, const std::function<Status()>& thaw) {
  constexpr int kRounds = 200;  // ~2 s: a killed process leaves cgroup.procs within ms
  std::vector<pid_t> left;
  for (int round = 0; round < kRounds; ++round) {
    left = list_pids();
    if (left.empty()) return {};
    if (freeze) {
      (void)freeze();  // best effort: without a freezer the loop still converges
      left = list_pids();
    }
    for (pid_t pid : left) ::kill(pid, SIGKILL);
    if (thaw) (void)thaw();
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  left = list_pids();
  if (left.empty()) return {};
  std::string pids;
  for (pid_t pid : left) pids += (pids.empty() ? "" : " ") + std::to_string(pid);
  return make_error("cgroup " + what + " still holds pids after kill: " + pids);
}

}  // namespace drover::cgroups
