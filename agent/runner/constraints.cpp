// Job constraints judged on this node (Nomad's ConstraintChecker and its distinct_* checkers,
// for one node); the operators themselves are jobspec/constraint.cpp's.
#include "runner/constraints.hpp"

#include <cstdlib>
#include <map>

#include "drover/common/json_text.hpp"
#include "jobspec/constraint.hpp"

namespace drover::runner {

using nlohmann::json;

namespace {

// "this node's ${attr.x} is "v"" / "this node has no ${meta.y}"; a literal is not described.
std::string node_value(const std::string& target, const std::optional<std::string>& v) {
  if (target.rfind("${", 0) != 0) return "";
  if (!v) return "this node has no " + target;
  return "this node's " + target + " is \"" + *v + "\"";
}

class PlacementJudge {
 public:
  PlacementJudge(const jobspec::Job& job, const NodeInfo& node, bool whole_job_here)
      : job_(job), node_(node), whole_job_here_(whole_job_here) {}

  std::vector<jobspec::Problem> problems;

  void judge() {
    if (!job_.node_pool.empty() && job_.node_pool != "default" && job_.node_pool != "all" &&
        job_.node_pool != node_.node_pool)
      problems.push_back({"node_pool", "the job asks for node pool \"" + job_.node_pool +
                                           "\"; this node is in pool \"" + node_.node_pool + "\""});
    int total = 0;
    for (const auto& g : job_.groups) total += g.count;
    list("", job_.placement.constraints, total, "job");
    for (std::size_t i = 0; i < job_.groups.size(); ++i) {
      const auto& g = job_.groups[i];
      const std::string gp = "groups[" + std::to_string(i) + "].";
      list(gp, g.placement.constraints, g.count, "group");
      // A task's distinct_* counts its group's allocs: a task never runs apart from them.
      for (std::size_t t = 0; t < g.tasks.size(); ++t)
        list(gp + "tasks[" + std::to_string(t) + "].", g.tasks[t].placement.constraints, g.count,
             "group");
      volumes(gp, g);
    }
  }

 private:
  const jobspec::Job& job_;
  const NodeInfo& node_;
  const bool whole_job_here_;

  // A group's host volumes are a constraint of their own, as Nomad's HostVolumeChecker: the
  // node has each, and a volume the group may write to is not read-only here.
  // A dynamic volume offers the access and attachment modes the group asks for.
  void volumes(const std::string& prefix, const jobspec::TaskGroup& g) {
    const HostVolumes volumes = node_.host_volumes_now();
    for (const auto& v : g.volumes) {
      if (v.type != "host") continue;
      const std::string p = prefix + "volumes." + v.name + ".source";
      auto it = volumes.find(v.source);
      if (it == volumes.end()) {
        std::string have;
        for (const auto& [name, hv] : volumes) have += (have.empty() ? "" : ", ") + name;
        problems.push_back({p, "host volume \"" + v.source + "\" is not on this node (its host volumes: " +
                                   (have.empty() ? std::string("none") : have) + ")"});
      } else if (!offers(it->second, v)) {
        problems.push_back({prefix + "volumes." + v.name + ".access_mode",
                            "host volume \"" + v.source + "\" does not offer access mode \"" +
                                (v.access_mode.empty() ? "any" : v.access_mode) +
                                "\" with attachment mode \"" +
                                (v.attachment_mode.empty() ? "any" : v.attachment_mode) + "\""});
      } else if (it->second.read_only && !v.read_only) {
        problems.push_back({prefix + "volumes." + v.name + ".read_only",
                            "host volume \"" + v.source +
                                "\" is read-only on this node: the volume needs read_only = true"});
      }
    }
  }

  static bool offers(const HostVolume& hv, const jobspec::VolumeRequest& v) {
    if (hv.capabilities.empty()) return true;
    for (const auto& [access, attachment] : hv.capabilities)
      if ((v.access_mode.empty() || v.access_mode == access) &&
          (v.attachment_mode.empty() || v.attachment_mode == attachment))
        return true;
    return false;
  }

  void list(const std::string& prefix, const std::vector<jobspec::Constraint>& cs, int allocs,
            const char* scope) {
    for (std::size_t i = 0; i < cs.size(); ++i) {
      auto why = fails(cs[i], allocs, scope);
      if (why)
        problems.push_back({prefix + "constraints[" + std::to_string(i) + "]",
                            "constraint \"" + constraint_text(cs[i]) + "\" is not met: " + *why});
    }
  }

  std::optional<std::string> fails(const jobspec::Constraint& c, int allocs, const char* scope) {
    if (!whole_job_here_) allocs = 1;
    if (c.op == "distinct_hosts") {
      // Nomad reads the value as a bool; "false" turns the constraint off.
      if (c.value == "false" || allocs <= 1) return std::nullopt;
      return std::string("the ") + scope + " asks for " + std::to_string(allocs) +
             " allocs on distinct hosts, and this node is one host";
    }
    if (c.op == "distinct_property") {
      auto v = resolve_target(c.attribute, node_);
      if (!v) return "this node has no " + c.attribute;
      long limit = c.value.empty() ? 1 : std::strtol(c.value.c_str(), nullptr, 10);
      if (allocs <= limit) return std::nullopt;
      return "at most " + std::to_string(limit) + " alloc" + (limit == 1 ? "" : "s") +
             " per value of " + c.attribute + ", and the " + scope + " asks for " +
             std::to_string(allocs) + ", all on this node (" + c.attribute + " = \"" + *v + "\")";
    }
    return unmet_constraint(c, node_);
  }
};

}  // namespace

std::string constraint_text(const jobspec::Constraint& c) {
  if (c.op == "distinct_hosts") return "distinct_hosts";
  if (c.op == "distinct_property")
    return "distinct_property " + c.attribute + (c.value.empty() ? "" : " " + c.value);
  if (c.op == "is_set" || c.op == "is_not_set") return c.attribute + " " + c.op;
  return c.attribute + " " + c.op + " " + c.value;
}

std::optional<std::string> unmet_constraint(const jobspec::Constraint& c, const NodeInfo& node) {
  auto left = resolve_target(c.attribute, node);
  auto right = resolve_target(c.value, node);
  if (jobspec::check_operand(c.op, left, right)) return std::nullopt;
  std::string why = node_value(c.attribute, left);
  std::string rwhy = c.op == "is_set" || c.op == "is_not_set" ? "" : node_value(c.value, right);
  if (!rwhy.empty()) why += (why.empty() ? "" : "; ") + rwhy;
  if (why.empty()) why = "\"" + c.attribute + "\" " + c.op + " \"" + c.value + "\" is false";
  return why;
}

NodeInfo node_info_from_json(const json& node) {
  NodeInfo n;
  n.id = node.value("ID", "");
  n.name = node.value("Name", "");
  n.datacenter = node.value("Datacenter", "");
  n.node_class = node.value("NodeClass", "");
  n.node_pool = node.value("NodePool", "default");
  auto strings = [](const json& obj, std::map<std::string, std::string>& out) {
    if (!obj.is_object()) return;
    for (const auto& [k, v] : obj.items())
      out[k] = v.is_string() ? v.get<std::string>() : json_text(v);
  };
  if (node.contains("Attributes")) strings(node["Attributes"], n.attributes);
  if (node.contains("Meta")) strings(node["Meta"], n.meta);
  if (node.contains("HostVolumes") && node["HostVolumes"].is_object())
    for (const auto& [name, v] : node["HostVolumes"].items()) {
      n.host_volumes[name] = {v.value("Path", ""), v.value("ReadOnly", false), v.value("ID", ""),
                              capabilities_from_json(v.value("Capabilities", json::array())),
                              v.value("Namespace", ""), v.value("PluginID", "")};
    }
  return n;
}

std::optional<std::string> resolve_target(const std::string& target, const NodeInfo& node) {
  if (target.rfind("${", 0) != 0) return target;
  if (target.back() != '}') return std::nullopt;
  const std::string inner = target.substr(2, target.size() - 3);
  if (inner == "node.unique.id") return node.id;
  if (inner == "node.datacenter") return node.datacenter;
  if (inner == "node.unique.name") return node.name;
  if (inner == "node.class") return node.node_class;
  if (inner == "node.pool") return node.node_pool;
  auto lookup = [](const std::map<std::string, std::string>& m,
                   const std::string& key) -> std::optional<std::string> {
    auto it = m.find(key);
    if (it == m.end()) return std::nullopt;
    return it->second;
  };
  if (inner.rfind("attr.", 0) == 0) return lookup(node.attributes, inner.substr(5));
  if (inner.rfind("meta.", 0) == 0) return lookup(node.meta, inner.substr(5));
  return std::nullopt;
}

std::vector<jobspec::Problem> placement_problems(const jobspec::Job& job, const NodeInfo& node,
                                                 bool whole_job_here) {
  PlacementJudge judge(job, node, whole_job_here);
  judge.judge();
  return std::move(judge.problems);
}

}  // namespace drover::runner
