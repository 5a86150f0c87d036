// Parsing of the agent config's `upstream` block; see upstream_config.hpp.
#include "upstream/upstream_config.hpp"

#include "jobspec/parse.hpp"

namespace drover::upstream {

void parse_upstream_config(const nlohmann::json& j, UpstreamConfig& out, std::string& errors) {
  if (!j.is_object()) {
    errors += "\n  upstream: must be a map with backend and etcd";
    return;
  }
  for (const auto& [k, v] : j.items()) {
    if (k == "backend") {
      if (v != "standalone" && v != "etcd")
        errors += "\n  upstream.backend: must be \"standalone\" or \"etcd\"";
      else
        out.backend = v.get<std::string>();
    } else if (k != "etcd") {
      errors += "\n  upstream." + k + ": unknown key (use backend, etcd)";
    }
  }
  if (!j.contains("etcd")) return;
  const auto& e = j["etcd"];
  if (!e.is_object()) {
    errors += "\n  upstream.etcd: must be a map";
    return;
  }
  auto& c = out.etcd;
  for (const auto& [k, v] : e.items()) {
    const std::string path = "\n  upstream.etcd." + k;
    if (k == "endpoints") {
      std::vector<std::string> list;
      if (v.is_string()) list.push_back(v.get<std::string>());
      if (v.is_array())
        for (const auto& x : v)
          if (x.is_string()) list.push_back(x.get<std::string>());
      bool ok = !list.empty() && (v.is_string() || list.size() == v.size());
      for (const auto& ep : list)
        ok = ok && (ep.rfind("http://", 0) == 0 || ep.rfind("https://", 0) == 0);
      if (!ok)
        errors += path + ": must be a list of http:// or https:// URLs";
      else
        c.endpoints = list;
    } else if (k == "ca_file" || k == "cert_file" || k == "key_file" || k == "username" ||
               k == "password" || k == "prefix") {
      if (!v.is_string()) {
        errors += path + ": must be a string";
        continue;
      }
      auto s = v.get<std::string>();
      if (k == "ca_file") c.ca_file = s;
      if (k == "cert_file") c.cert_file = s;
      if (k == "key_file") c.key_file = s;
      if (k == "username") c.username = s;
      if (k == "password") c.password = s;
      if (k == "prefix") {
        while (s.size() > 1 && s.back() == '/') s.pop_back();
        if (s.empty() || s[0] != '/')
          errors += path + ": must start with '/'";
        else
          c.prefix = s;
      }
    } else if (k == "heartbeat_ttl" || k == "request_timeout") {
      auto d = v.is_string() ? jobspec::parse_duration(v.get<std::string>())
                             : Result<jobspec::Duration>(make_error("not a string"));
      if (!d.ok() || d.value() < std::chrono::seconds(1)) {
        errors += path + ": must be a duration of at least 1s, such as \"15s\"";
        continue;
      }
      if (k == "heartbeat_ttl")
        c.heartbeat_ttl = std::chrono::duration_cast<std::chrono::seconds>(d.value());
      else
        c.request_timeout = std::chrono::duration_cast<std::chrono::milliseconds>(d.value());
    } else {
      errors += path + ": unknown key";
    }
  }
  if (c.cert_file.empty() != c.key_file.empty())
    errors += "\n  upstream.etcd: cert_file and key_file go together";
}

}  // namespace drover::upstream
