// What the login tests (acl_login_test.cpp, oidc_login_test.cpp) share: a request to an agent
// with a token or none, the error an answer carries, the bootstrap token an agent logged, and
// a field of the CLI's key-value output.
#pragma once

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <regex>
#include <string>

#include "agent_process.hpp"

namespace drover::testing {

inline httplib::Result call(const AgentProcess& a, const std::string& method, const std::string& path,
                            const std::string& secret, const std::string& body = "") {
  httplib::Client c("127.0.0.1", a.port());
  c.set_read_timeout(15);
  httplib::Headers h;
  if (!secret.empty()) h.emplace("X-Nomad-Token", secret);
  if (method == "GET") return c.Get(path.c_str(), h);
  if (method == "DELETE") return c.Delete(path.c_str(), h);
  return c.Post(path.c_str(), h, body, "application/json");
}

inline std::string error_of(const httplib::Result& r) {
  return r ? nlohmann::json::parse(r->body, nullptr, false).value("error", r->body) : "no reply";
}

inline std::string bootstrap_secret(const AgentProcess& a) {
  std::smatch m;
  const std::string log = a.log();
  static const std::regex re("Secret ID: ([0-9a-f-]{36})");
  return std::regex_search(log, m, re) ? m[1].str() : std::string();
}

inline std::string cli_field(const std::string& out, const std::string& name) {
  std::smatch m;
  const std::regex re("(^|\n)" + name + " +(= +)?([^\n]*)");
  return std::regex_search(out, m, re) ? m[3].str() : std::string();
}

}  // namespace drover::testing
