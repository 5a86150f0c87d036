// A cluster snapshot's file; see snapshot_file.hpp.
#include "server/snapshot_file.hpp"

#include <nlohmann/json.hpp>
#include <set>

#include "drover/common/gzip.hpp"
#include "drover/common/json_text.hpp"

namespace drover::server {
namespace {

using nlohmann::json;

constexpr const char* kFormat = "drover-snapshot";
constexpr int kVersion = 1;
// A snapshot file's JSON may be this large unpacked: ten times a cluster of 10,000 jobs.
constexpr std::size_t kMaxUnpacked = std::size_t{4} << 30;

// The kind of a key below the prefix: its first part, or its first two under acl/.
std::string kind_of(std::string_view key) {
  auto slash = key.find('/');
  if (key.starts_with("acl/") && slash != std::string_view::npos) slash = key.find('/', slash + 1);
  return std::string(slash == std::string_view::npos ? key : key.substr(0, slash));
}

}  // namespace

bool durable_key(std::string_view k) {
  return !k.empty() && !k.starts_with("nodes/") && k != "leader" && k != "restoring" &&
         !k.starts_with("servers/");
}

std::string snapshot_file(const Snapshot& s) {
  json keys = json::array();
  for (const auto& [k, v] : s.keys) keys.push_back({k, v});
  return gzip(json_text(json{{"Format", kFormat},
                             {"Version", kVersion},
                             {"Prefix", s.prefix},
                             {"Revision", s.revision},
                             {"TakenAt", s.taken_at_ns},
                             {"Server", s.server},
                             {"Keys", std::move(keys)}}));
}

Result<Snapshot> read_snapshot_file(std::string_view bytes) {
  auto text = gunzip(bytes, kMaxUnpacked);
  if (!text) return make_error("not a drover snapshot: " + text.message(), Errc::Invalid);
  auto j = json::parse(text.value(), nullptr, false);
  if (!j.is_object() || j.value("Format", json()) != json(kFormat))
    return make_error("not a drover snapshot (no \"Format\": \"drover-snapshot\" inside)", Errc::Invalid);
  if (j.value("Version", json()) != json(kVersion))
    return make_error("a snapshot of version " + j.value("Version", json()).dump() + ": this server reads version " +
                          std::to_string(kVersion),
                      Errc::Invalid);
  Snapshot s;
  s.prefix = j.value("Prefix", "");
  s.server = j.value("Server", "");
  s.revision = j.value("Revision", int64_t{0});
  s.taken_at_ns = j.value("TakenAt", int64_t{0});
  if (!j.value("Keys", json()).is_array()) return make_error("the snapshot holds no \"Keys\" list", Errc::Invalid);
  std::set<std::string> seen;
  for (const auto& kv : j["Keys"]) {
    if (!kv.is_array() || kv.size() != 2 || !kv[0].is_string() || !kv[1].is_string())
      return make_error("the snapshot's Keys: an entry is not [key, value]", Errc::Invalid);
    const std::string key = kv[0].get<std::string>();
    // A key that climbs out of the prefix, or names what a snapshot never holds, is a file
    // written by hand: nothing of it is restored.
    if (!durable_key(key) || key.find("..") != std::string::npos || key.front() == '/' ||
        key.find('\0') != std::string::npos)
      return make_error("the snapshot's Keys: \"" + key + "\" is not a key a snapshot holds", Errc::Invalid);
    if (!seen.insert(key).second) return make_error("the snapshot's Keys: \"" + key + "\" twice", Errc::Invalid);
    s.keys.emplace_back(key, kv[1].get<std::string>());
  }
  return s;
}

std::map<std::string, int> snapshot_counts(const Snapshot& s) {
  std::map<std::string, int> counts;
  for (const auto& [k, v] : s.keys) counts[kind_of(k)]++;
  return counts;
}

}  // namespace drover::server
