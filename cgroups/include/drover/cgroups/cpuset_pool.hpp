// CpusetPool: the node's reservable cores and which owner (an "<alloc_id>.<task>") holds each.
// A core is never given to two owners; reservations persist through to_json/from_json so an
// agent restart keeps them. Thread-safe.
#pragma once

#include <filesystem>
#include <map>
#include <mutex>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <vector>

#include "drover/common/result.hpp"

namespace drover::cgroups {

// "0-1,3" ↔ {0, 1, 3}. parse_cpus fails on anything but a cpu list.
Result<std::vector<int>> parse_cpus(const std::string& text);
std::string format_cpus(std::vector<int> cpus);

class CpusetPool {
 public:
  explicit CpusetPool(std::vector<int> cores);
  CpusetPool(CpusetPool&& other);
  // The host's online cpus (/sys/devices/system/cpu/online) minus `reserved` ("0" or "").
  static Result<CpusetPool> from_host(
      const std::string& reserved = "",
      const std::filesystem::path& online = "/sys/devices/system/cpu/online");

  // `n` free cores for `owner`, lowest first. An owner that already holds cores gets the
  // same ones back when it asks for as many. On shortage: an error saying how many were
  // asked and how many are free; nothing is reserved.
  Result<std::vector<int>> reserve(const std::string& owner, int n);
  void release(const std::string& owner);
  std::vector<int> reserved_by(const std::string& owner) const;
  std::vector<int> cores() const;  // all reservable cores
  std::vector<int> free() const;   // the shared pool: cores no owner holds

  // {"cores":[0,1],"reservations":{"owner":[0]}}.
  nlohmann::json to_json() const;
  // Restores reservations saved by to_json; refuses (changing nothing) reservations of cores
  // this pool lacks or cores held twice.
  Status from_json(const nlohmann::json& saved);

 private:
  std::vector<int> free_locked() const;  // free(), with mutex_ held

  mutable std::mutex mutex_;
  std::vector<int> cores_;
  std::map<std::string, std::vector<int>> owners_;
};

}  // namespace drover::cgroups
