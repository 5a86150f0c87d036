// Hierarchy: what a cgroup version must do for the Manager and TaskCgroup. v1.cpp and v2.cpp
// implement it; the public header sees only the forward declaration.
#pragma once

#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "control_fs.hpp"
#include "drover/cgroups/cgroups.hpp"

namespace drover::cgroups {

// The Manager has checked each task cgroup name it passes to create() and remove() (a plain
// name, manager.cpp).
class Hierarchy {
 public:
  virtual ~Hierarchy() = default;
  virtual Status open_parent() = 0;
  virtual Status create(const std::string& name, const Limits& limits) = 0;
  virtual bool exists(const std::string& name) const = 0;
  virtual std::vector<std::string> procs_files(const std::string& name) const = 0;
  virtual std::string relative_path(const std::string& name) const = 0;
  virtual std::vector<pid_t> pids(const std::string& name) const = 0;
  virtual std::vector<std::string> list() const = 0;
  virtual Status kill_all(const std::string& name) = 0;
  virtual Status remove(const std::string& name) = 0;
  virtual Status remove_parent() = 0;
  virtual uint64_t oom_kill_count(const std::string& name) const = 0;
  virtual Result<Stats> stats(const std::string& name) const = 0;
};

std::shared_ptr<Hierarchy> make_v1(HostInfo host, std::string parent,
                                   std::unique_ptr<ControlFs> fs);
std::shared_ptr<Hierarchy> make_v2(HostInfo host, std::string parent,
                                   std::unique_ptr<ControlFs> fs);

// SIGKILLs every pid listed by `list_pids` until it lists none, at most `rounds` times, with
// `freeze`/`thaw` around each round so that nothing forks between the read and the kill.
// Fails, naming the pids left, when the cgroup does not empty.
// `freeze`/`thaw` may be empty (no freezer).
Status kill_loop(const std::string& what, const std::function<std::vector<pid_t>()>& list_pids,
                 const std::function<Status()>& freeze, const std::function<Status()>& thaw);

}  // namespace drover::cgroups
