// A job's identity: Nomad's (Namespace, ID). The same id in two namespaces is two jobs, each
// with its own allocs, status, launches and children (docs/api.md, "Namespaces").
#pragma once

#include <compare>
#include <string>

#include "drover/common/names.hpp"

namespace drover::state {

struct JobKey {
  std::string ns = kDefaultNamespace;
  std::string id;
  auto operator<=>(const JobKey&) const = default;
};

// `job "web"`, or `job "web" in namespace "prod"` outside the default one: for messages.
inline std::string describe(const JobKey& key) {
  std::string out = "job \"" + key.id + "\"";
  if (key.ns != kDefaultNamespace) out += " in namespace \"" + key.ns + "\"";
  return out;
}

}  // namespace drover::state
