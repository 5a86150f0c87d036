// Reading server.yaml; see server_config.hpp.
#include "server/server_config.hpp"

#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

#include "api/host_check.hpp"
#include "jobspec/parse.hpp"
#include "jobspec/yaml_to_json.hpp"
#include "vars/oidc_issuer.hpp"

namespace drover::server {

using nlohmann::json;

namespace {

// acl: { enabled, bootstrap_token_file }
void read_acl_block(const json& v, ServerConfig& cfg, std::string& errors) {
  if (!v.is_object()) {
    errors += "\n  acl: must be a map";
    return;
  }
  for (const auto& [k, x] : v.items()) {
    if (k == "enabled") {
      if (!x.is_boolean()) errors += "\n  acl.enabled: must be true or false";
      else cfg.acl_enabled = x.get<bool>();
    } else if (k == "bootstrap_token_file") {
      if (!x.is_string() || x.get<std::string>().empty())
        errors += "\n  acl.bootstrap_token_file: must be a path";
      else cfg.acl_bootstrap_token_file = x.get<std::string>();
    } else {
      errors += "\n  acl." + k + ": unknown key (use enabled, bootstrap_token_file)";
    }
  }
}

}  // namespace

Result<ServerConfig> parse_server_config(const std::string& text, const std::string& origin) {
  json doc;
  try {
    YAML::Node root = YAML::Load(text);
    std::string err;
    auto j = jobspec::detail::yaml_to_json(root, &err);
    if (!j) return make_error(origin + ": " + err, Errc::Invalid);
    doc = std::move(*j);
  } catch (const YAML::Exception& e) {
    return make_error(origin + ": " + e.what(), Errc::Invalid);
  }
  if (doc.is_null()) doc = json::object();
  if (!doc.is_object()) return make_error(origin + ": must be a map", Errc::Invalid);
  ServerConfig cfg;
  std::string errors;
  for (const auto& [k, v] : doc.items()) {
    if (k == "name" || k == "bind_addr") {
      if (!v.is_string() || v.get<std::string>().empty()) {
        errors += "\n  " + k + ": must be a non-empty string";
        continue;
      }
      (k == "name" ? cfg.name : cfg.bind_addr) = v.get<std::string>();
    } else if (k == "port") {
      if (!v.is_number_integer() || v.get<int>() < 1 || v.get<int>() > 65535)
        errors += "\n  port: must be a number from 1 to 65535";
      else
        cfg.port = v.get<int>();
    } else if (k == "leader_ttl") {
      auto d = v.is_string() ? jobspec::parse_duration(v.get<std::string>())
                             : Result<jobspec::Duration>(make_error("must be a duration like 10s"));
      if (!d) {
        errors += "\n  leader_ttl: " + d.message();
        continue;
      }
      auto s = std::chrono::duration_cast<std::chrono::seconds>(d.value());
      // etcd grants leases of at least a few seconds; under 2 s the keepalive would race it.
      if (s < std::chrono::seconds(2)) errors += "\n  leader_ttl: must be at least 2s";
      cfg.leader_ttl = s;
    } else if (k == "http_allowed_hosts") {
      if (!api::read_allowed_hosts(v, cfg.http_allowed_hosts))
        errors += "\n  http_allowed_hosts: must be a list of host names (no scheme or port)";
    } else if (k == "etcd") {
      // The agent's block, read by the agent's code; its errors name upstream.etcd.*.
      upstream::UpstreamConfig up;
      std::string up_errors;
      upstream::parse_upstream_config(json{{"backend", "etcd"}, {"etcd", v}}, up, up_errors);
      for (std::size_t at; (at = up_errors.find("upstream.")) != std::string::npos;)
        up_errors.erase(at, 9);
      errors += up_errors;
      cfg.etcd = up.etcd;
    } else if (k == "tls") {
      api::read_tls_config(v, cfg.tls, errors);
    } else if (k == "acl") {
      read_acl_block(v, cfg, errors);
    } else if (k == "keyring_file" || k == "oidc_issuer") {
      if (!v.is_string() || v.get<std::string>().empty()) {
        errors += "\n  " + k + ": must be a non-empty string";
        continue;
      }
      (k == "keyring_file" ? cfg.keyring_file : cfg.oidc_issuer) = v.get<std::string>();
      if (k == "oidc_issuer" && !vars::valid_oidc_issuer(cfg.oidc_issuer))
        errors += std::string("\n  oidc_issuer: ") + vars::kOidcIssuerRule;
    } else if (k == "insecure_listen") {
      if (!v.is_boolean()) errors += "\n  insecure_listen: must be true or false";
      else cfg.insecure_listen = v.get<bool>();
    } else if (k == "scheduler_algorithm" || k == "preemption_config") {
      read_scheduler_yaml(k, v, cfg.scheduler, errors);
    } else if (auto* d = k == "job_gc_interval"           ? &cfg.gc_interval
                         : k == "job_gc_threshold"        ? &cfg.gc.job
                         : k == "eval_gc_threshold"       ? &cfg.gc.eval
                         : k == "batch_eval_gc_threshold" ? &cfg.gc.batch_eval
                         : k == "deployment_gc_threshold" ? &cfg.gc.deployment
                         : k == "node_gc_threshold"       ? &cfg.gc.node
                                                          : nullptr) {
      auto parsed = v.is_string() ? jobspec::parse_duration(v.get<std::string>())
                                  : Result<jobspec::Duration>(make_error("must be a duration like 1h"));
      if (!parsed) errors += "\n  " + k + ": " + parsed.message();
      else if (k == "job_gc_interval" && parsed.value() < std::chrono::seconds(1))
        errors += "\n  job_gc_interval: must be at least 1s";
      else *d = std::chrono::duration_cast<std::chrono::nanoseconds>(parsed.value());
    } else {
      errors += "\n  " + k +
                ": unknown key (use name, bind_addr, port, leader_ttl, http_allowed_hosts, etcd, "
                "tls, acl, insecure_listen, keyring_file, oidc_issuer, scheduler_algorithm, preemption_config, "
                "job_gc_interval, job_gc_threshold, eval_gc_threshold, batch_eval_gc_threshold, "
                "deployment_gc_threshold, node_gc_threshold)";
    }
  }
  if (errors.empty())
    if (auto st = api::check_tls_config(cfg.tls); !st) errors += "\n  " + st.message();
  if (errors.empty() && !cfg.acl_bootstrap_token_file.empty() && !cfg.acl_enabled)
    errors += "\n  acl.bootstrap_token_file: needs acl.enabled: true";
  if (!errors.empty()) return make_error(origin + " has problems:" + errors, Errc::Invalid);
  if (cfg.name.empty()) {
    char host[256] = {0};
    ::gethostname(host, sizeof host - 1);
    cfg.name = std::string(host) + ":" + std::to_string(cfg.port);
  }
  return cfg;
}

Result<ServerConfig> load_server_config(const std::string& path) {
  std::ifstream in(path);
  if (!in) return make_error("cannot read server config " + path, Errc::NotFound);
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_server_config(ss.str(), path);
}

}  // namespace drover::server
