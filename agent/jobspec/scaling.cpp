// Scale requests held to a group's bounds, and the scaling policies listed; see scaling.hpp.
#include "jobspec/scaling.hpp"

#include <openssl/evp.h>

#include <array>
#include <cstdio>

namespace drover::jobspec {

using nlohmann::json;

namespace {

// Nomad's ScaleJob checks (nomad/job_endpoint.go): the same words, so scripts that read them
// carry over.
Status within_bounds(const json& group, int64_t count) {
  const json s = group.value("Scaling", json());
  if (!s.is_object()) return {};
  const int64_t min = s.value("Min", int64_t{0}), max = s.value("Max", int64_t{-1});
  if (count < min)
    return make_error("group count was less than scaling policy minimum: " +
                          std::to_string(count) + " < " + std::to_string(min),
                      Errc::Invalid);
  if (max >= 0 && count > max)
    return make_error("group count was greater than scaling policy maximum: " +
                          std::to_string(count) + " > " + std::to_string(max),
                      Errc::Invalid);
  return {};
}

}  // namespace

Result<json> scaled_job(const json& job, const std::string& group, int64_t count) {
  const std::string type = job.value("Type", "service");
  if (type == "system" || type == "sysbatch")
    return make_error("job \"" + job.value("ID", "") + "\" is a " + type +
                          " job: it runs one alloc per node and has no count to scale",
                      Errc::Invalid);
  if (count < 0) return make_error("Count: must be 0 or more, not " + std::to_string(count), Errc::Invalid);
  auto target = scale_target(job, group);
  if (!target) return target.error();
  json out = job;
  for (auto& g : out["TaskGroups"])
    if (g.value("Name", "") == target->first) {
      if (auto st = within_bounds(g, count); !st) return st.error();
      g["Count"] = count;
      return out;
    }
  return make_error("Target.Group: job \"" + job.value("ID", "") + "\" has no group \"" +
                        target->first + "\"",
                    Errc::NotFound);
}

Result<ScaleRequest> scale_request_from_json(const json& body) {
  if (!body.is_object())
    return make_error("body: must be a JSON object {\"Count\", \"Target\": {\"Group\"}}",
                      Errc::Invalid);
  ScaleRequest out;
  const json count = body.value("Count", json());
  if (!count.is_null()) {
    if (!count.is_number_integer())
      return make_error("Count: must be an integer (the group's new count), or left out to "
                        "record only an event",
                        Errc::Invalid);
    out.count = count.get<int64_t>();
  }
  const json target = body.value("Target", json::object());
  if (!target.is_object())
    return make_error("Target: must be an object {\"Group\": name}", Errc::Invalid);
  const json group = target.value("Group", json(""));
  if (!group.is_string()) return make_error("Target.Group: must be a group's name", Errc::Invalid);
  out.group = group.get<std::string>();
  const json message = body.value("Message", json(""));
  if (!message.is_string() && !message.is_null())
    return make_error("Message: must be a string", Errc::Invalid);
  if (message.is_string()) out.message = message.get<std::string>().substr(0, 1024);
  const json error = body.value("Error", json(false));
  if (!error.is_boolean() && !error.is_null())
    return make_error("Error: must be true or false", Errc::Invalid);
  out.error = error.is_boolean() && error.get<bool>();
  const json meta = body.value("Meta", json());
  if (!meta.is_null() && !meta.is_object())
    return make_error("Meta: must be an object", Errc::Invalid);
  if (meta.is_object() && meta.dump().size() > 4096)
    return make_error("Meta: at most 4 KiB", Errc::Invalid);
  out.meta = meta;
  if (!out.count && !out.error && out.message.empty())
    return make_error("Count: must be an integer (the group's new count); an event without one "
                      "needs a Message or Error",
                      Errc::Invalid);
  return out;
}

Result<std::pair<std::string, int64_t>> scale_target(const json& job, const std::string& group) {
  const json groups = job.value("TaskGroups", json::array());
  if (!groups.is_array() || groups.empty())
    return make_error("job \"" + job.value("ID", "") + "\" has no groups", Errc::Invalid);
  if (group.empty()) {
    if (groups.size() != 1)
      return make_error("Target.Group: the job has " + std::to_string(groups.size()) +
                            " groups: name the one to scale",
                        Errc::Invalid);
    return std::make_pair(groups[0].value("Name", ""), groups[0].value("Count", int64_t{0}));
  }
  for (const auto& g : groups)
    if (g.value("Name", "") == group) return std::make_pair(group, g.value("Count", int64_t{0}));
  return make_error("Target.Group: job \"" + job.value("ID", "") + "\" has no group \"" + group + "\"",
                    Errc::NotFound);
}

json scaling_event(const ScaleRequest& r, int64_t previous, int64_t now_ns,
                   const std::string& eval_id) {
  return {{"Time", now_ns},
          {"Count", r.count ? json(*r.count) : json(nullptr)},
          {"PreviousCount", previous},
          {"Message", r.message},
          {"Error", r.error},
          {"Meta", r.meta},
          {"EvalID", eval_id.empty() ? json(nullptr) : json(eval_id)},
          {"CreateIndex", 0}};
}

void add_scaling_event(json& events, const std::string& group, json event) {
  constexpr std::size_t kTracked = 20;  // Nomad's JobTrackedScalingEvents
  if (!events.is_object()) events = json::object();
  json list = json::array({std::move(event)});
  for (const auto& e : events.value(group, json::array())) {
    if (list.size() >= kTracked) break;
    list.push_back(e);
  }
  events[group] = std::move(list);
}

json scale_status(const json& job, const std::string& ns, uint64_t modify_index, bool stopped,
                  const std::vector<ScaleStatusAlloc>& allocs, const json& events) {
  json groups = json::object();
  for (const auto& g : job.value("TaskGroups", json::array())) {
    const std::string name = g.value("Name", "");
    int placed = 0, running = 0, healthy = 0, unhealthy = 0;
    for (const auto& a : allocs) {
      if (a.group != name) continue;
      ++placed;
      running += a.running;
      if (a.healthy) ++(*a.healthy ? healthy : unhealthy);
    }
    groups[name] = {{"Desired", g.value("Count", 0)}, {"Placed", placed},
                    {"Running", running},             {"Healthy", healthy},
                    {"Unhealthy", unhealthy},
                    {"Events", events.is_object() ? events.value(name, json::array()) : json::array()}};
  }
  return {{"JobID", job.value("ID", "")},
          {"Namespace", ns},
          {"JobModifyIndex", modify_index},
          {"JobStopped", stopped},
          {"TaskGroups", groups}};
}

std::string scaling_policy_id(const std::string& ns, const std::string& job,
                              const std::string& group) {
  // A name-based UUID: SHA-256 of the target, cut to 128 bits with version 5's marks.
  const std::string name = ns + '\0' + job + '\0' + group;
  std::array<unsigned char, EVP_MAX_MD_SIZE> d{};
  unsigned int len = 0;
  EVP_Digest(name.data(), name.size(), d.data(), &len, EVP_sha256(), nullptr);
  d[6] = static_cast<unsigned char>((d[6] & 0x0f) | 0x50);
  d[8] = static_cast<unsigned char>((d[8] & 0x3f) | 0x80);
  char out[37];
  std::snprintf(out, sizeof out,
                "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", d[0],
                d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9], d[10], d[11], d[12], d[13],
                d[14], d[15]);
  return out;
}

namespace {

json stub(const StoredJob& j, const json& g) {
  const json& s = g.at("Scaling");
  const std::string id = j.job->value("ID", ""), name = g.value("Name", "");
  return {{"ID", scaling_policy_id(j.ns, id, name)},
          {"Enabled", s.value("Enabled", true) && !j.stopped},
          {"Type", s.value("Type", "horizontal")},
          {"Target", {{"Namespace", j.ns}, {"Job", id}, {"Group", name}}},
          {"CreateIndex", j.index},
          {"ModifyIndex", j.index}};
}

// Each group of each job that has a scaling block.
template <typename Visit>
void each_policy(const std::vector<StoredJob>& jobs, Visit visit) {
  for (const auto& j : jobs)
    for (const auto& g : j.job->value("TaskGroups", json::array()))
      if (g.contains("Scaling") && g.at("Scaling").is_object()) visit(j, g);
}

}  // namespace

json scaling_policy_list(const std::vector<StoredJob>& jobs, std::string_view job,
                         std::string_view type) {
  json out = json::array();
  each_policy(jobs, [&](const StoredJob& j, const json& g) {
    json p = stub(j, g);
    if (!job.empty() && !p["Target"]["Job"].get_ref<const std::string&>().starts_with(job)) return;
    if (!type.empty() && p["Type"] != type) return;
    out.push_back(std::move(p));
  });
  return out;
}

json find_scaling_policy(const std::vector<StoredJob>& jobs, std::string_view id) {
  json found = nullptr;
  each_policy(jobs, [&](const StoredJob& j, const json& g) {
    json p = stub(j, g);
    if (!found.is_null() || p["ID"] != id) return;
    const json& s = g.at("Scaling");
    p["Min"] = s.value("Min", 0);
    p["Max"] = s.value("Max", -1);
    p["Policy"] = s.value("Policy", json());
    found = std::move(p);
  });
  return found;
}

}  // namespace drover::jobspec
