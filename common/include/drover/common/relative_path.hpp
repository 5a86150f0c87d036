// Where a path written relative to a dir lands, worked out from its text alone: the one rule
// behind "escapes the alloc dir" for templates, artifacts and the job validator. What is on
// disk (links) is the opener's business (agent/fs/beneath.hpp).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "drover/common/result.hpp"
#include "drover/common/split.hpp"
#include "drover/common/substitute.hpp"

namespace drover {

// `rel` normalized lexically ("a/./b//../c" is "a/c"; "" is the dir itself), or nullopt when
// a ".." climbs above the dir. A leading '/' is read as an empty first part: callers refuse
// absolute paths before asking.
inline std::optional<std::string> lexically_beneath(std::string_view rel) {
  std::vector<std::string_view> parts;
  for (auto part : split(rel, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (parts.empty()) return std::nullopt;
      parts.pop_back();
    } else {
      parts.push_back(part);
    }
  }
  std::string out;
  for (auto part : parts) (out += out.empty() ? "" : "/") += part;
  return out;
}

// ${NOMAD_TASK_DIR}, ${NOMAD_SECRETS_DIR} and ${NOMAD_ALLOC_DIR} in a template's or artifact's
// path, written as paths from the task dir: local, secrets, ../alloc. Nomad reads them so
// whatever path the driver shows the task (/local in a container, a host path for raw_exec).
inline std::string task_dir_variables_as_relative(std::string_view path) {
  return substitute(path, {{"${NOMAD_TASK_DIR}", "local"},
                           {"${NOMAD_SECRETS_DIR}", "secrets"},
                           {"${NOMAD_ALLOC_DIR}", "../alloc"}});
}

// Where a path that a job gives from its task dir lands in the alloc dir: Nomad's rule for
// template and artifact paths (docs/templates.md, "Paths"). It must stay beneath the task's
// own dir or the group's shared dir (`../alloc/...`); a leading '/' starts at the task dir, as
// Nomad joins it there. The path from the alloc dir ("web/local/app.conf", "alloc/data/x"),
// or Invalid saying why not.
inline Result<std::string> beneath_task_or_shared(std::string_view task, std::string_view path) {
  const std::string shown = "\"" + std::string(path) + "\"";
  auto beneath = lexically_beneath(std::string(task) + "/" + std::string(path));
  if (!beneath) return make_error(shown + " escapes the alloc dir", Errc::Invalid);
  if (beneath->empty()) return make_error(shown + " is the alloc dir itself", Errc::Invalid);
  const std::string_view first = std::string_view(*beneath).substr(0, beneath->find('/'));
  if (first != task && first != "alloc")
    return make_error(shown + " is neither in the task dir nor in the alloc's shared dir "
                              "(../alloc/..., ${NOMAD_ALLOC_DIR}/...)",
                      Errc::Invalid);
  return *beneath;
}

// A path from the alloc dir (what beneath_task_or_shared returns) as the dir it is in, the
// task's or the shared one ("web", "alloc"), and the rest below it ("." for that dir itself):
// what is written there is opened beneath that dir, so nothing in it leads out of it.
inline std::pair<std::string, std::string> top_dir_and_rest(std::string_view alloc_rel) {
  const auto slash = alloc_rel.find('/');
  if (slash == std::string_view::npos) return {std::string(alloc_rel), "."};
  return {std::string(alloc_rel.substr(0, slash)), std::string(alloc_rel.substr(slash + 1))};
}

}  // namespace drover
