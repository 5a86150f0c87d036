// Job version tags (server/version_tags.hpp).
#include "server/version_tags.hpp"

#include <httplib.h>

#include <vector>

#include "api/json_reply.hpp"
#include "drover/common/json_text.hpp"
#include "server/api_support.hpp"
#include "server/keys.hpp"
#include "server/write_batcher.hpp"
#include "state/alloc.hpp"
#include "state/job_key.hpp"
#include "upstream/etcd_client.hpp"

namespace drover::server {

using api::reply_error;
using api::reply_json;
using nlohmann::json;

namespace {

constexpr std::size_t kMaxTagName = 128;
constexpr std::size_t kMaxTagDescription = 1024;

struct StoredVersion {
  int version = 0;
  std::string key;
  int64_t mod_revision = 0;
  json rec;
};

// Every stored version of the job, as read now.
Result<std::vector<StoredVersion>> read_versions(const ServerApiContext& ctx, const std::string& ns,
                                                 const std::string& id) {
  upstream::EtcdClient etcd(ctx.etcd);
  auto r = etcd.range_prefix(ctx.keys.job_versions(ns, id));
  if (!r) return make_error(r.message(), Errc::Internal);
  std::vector<StoredVersion> out;
  for (const auto& kv : r.value().kvs) {
    json rec = json::parse(kv.value, nullptr, false);
    if (!rec.is_object()) continue;
    const int version = rec.value("Version", 0);
    out.push_back({version, kv.key, kv.mod_revision, std::move(rec)});
  }
  return out;
}

std::string tag_name_of(const StoredVersion& v) {
  const auto& t = v.rec.value("VersionTag", json());
  return t.is_object() ? t.value("Name", std::string()) : std::string();
}

// A tag's name as a path segment carries it: not empty, bounded, no control characters.
std::optional<std::string> name_problem(const std::string& name) {
  if (name.empty()) return "the tag needs a name";
  if (name.size() > kMaxTagName) return "a tag's name is at most 128 bytes";
  for (unsigned char c : name)
    if (c < 0x20 || c == 0x7f) return "a tag's name has no control characters";
  return std::nullopt;
}

// Writes `rec` over the version as read; false when it changed meanwhile (read again).
Result<std::optional<int64_t>> write_version(ServerApiContext& ctx, const StoredVersion& v,
                                             const json& rec) {
  GuardedWriteBatcher alone(ctx.etcd);
  GuardedWriteBatcher& writes = ctx.writes ? *ctx.writes : alone;
  auto w = writes.write({v.key, v.mod_revision, {{v.key, json_text(rec)}}});
  if (!w) return w.error();
  if (!w.value().written) return std::optional<int64_t>();
  return std::optional<int64_t>(w.value().revision);
}

void apply_tag(ServerApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const std::string ns = ns_of(req), id = req.matches[1], name = req.matches[2];
  if (auto p = name_problem(name)) return reply_error(res, 400, "Name: " + *p);
  auto body = body_object(req, res);
  if (!body) return;
  const json version = body->value("Version", json(0));
  if (!version.is_number_integer() || version.get<int64_t>() < 0)
    return reply_error(res, 400, "Version: must be a version number (0 or more)");
  const json latest = body->value("Latest", json(false));
  if (!latest.is_boolean()) return reply_error(res, 400, "Latest: must be true or false");
  const json description = body->value("Description", json(""));
  if (!description.is_string() || description.get<std::string>().size() > kMaxTagDescription)
    return reply_error(res, 400, "Description: must be a string of at most 1024 bytes");
  for (int attempt = 0; attempt < 8; ++attempt) {
    auto versions = read_versions(ctx, ns, id);
    if (!versions) return reply_error(res, 503, versions.message());
    if (versions->empty()) return reply_error(res, 404, state::describe({ns, id}) + " not found");
    // Nomad's: version 0 with Latest means the newest version.
    int target = version.get<int>();
    if (target == 0 && latest.get<bool>())
      for (const auto& v : *versions) target = std::max(target, v.version);
    const StoredVersion* found = nullptr;
    for (const auto& v : *versions) {
      // Renaming a tag in place is fine; the same name on another version is not.
      if (tag_name_of(v) == name && v.version != target)
        return reply_error(res, 400, "tag \"" + name + "\" already exists on version " +
                                         std::to_string(v.version) + " of job \"" + id + "\"");
      if (v.version == target) found = &v;
    }
    if (!found)
      return reply_error(res, 404, "job \"" + id + "\" version " + std::to_string(target) +
                                       " not found");
    json tag = {{"Name", name},
                {"Description", description.get<std::string>()},
                {"TaggedTime", state::now_ns()}};
    json rec = found->rec;
    rec["VersionTag"] = tag;
    auto w = write_version(ctx, *found, rec);
    if (!w) return reply_error(res, 503, w.message());
    if (*w) {
      tag["Index"] = **w;
      tag["Version"] = target;
      return reply_json(res, tag);
    }
  }
  reply_error(res, 409, "job \"" + id + "\" kept changing while it was tagged");
}

void unset_tag(ServerApiContext& ctx, const httplib::Request& req, httplib::Response& res) {
  const std::string ns = ns_of(req), id = req.matches[1], name = req.matches[2];
  for (int attempt = 0; attempt < 8; ++attempt) {
    auto versions = read_versions(ctx, ns, id);
    if (!versions) return reply_error(res, 503, versions.message());
    const StoredVersion* found = nullptr;
    for (const auto& v : *versions)
      if (tag_name_of(v) == name) found = &v;
    if (!found)
      return reply_error(res, 404, "tag \"" + name + "\" not found on job \"" + id + "\"");
    json rec = found->rec;
    rec.erase("VersionTag");
    auto w = write_version(ctx, *found, rec);
    if (!w) return reply_error(res, 503, w.message());
    if (*w) return reply_json(res, {{"Name", name}, {"Version", found->version}, {"Index", **w}});
  }
  reply_error(res, 409, "job \"" + id + "\" kept changing while its tag was taken off");
}

}  // namespace

void register_version_tag_routes(ServerApiContext& ctx, httplib::Server& s) {
  const char* path = R"(/v1/job/(.+)/versions/([^/]+)/tag)";
  auto apply = leader_only(ctx, [&ctx](const httplib::Request& req, httplib::Response& res) {
    apply_tag(ctx, req, res);
  });
  s.Put(path, apply);
  s.Post(path, apply);
  s.Delete(path, leader_only(ctx, [&ctx](const httplib::Request& req, httplib::Response& res) {
             unset_tag(ctx, req, res);
           }));
}

}  // namespace drover::server
