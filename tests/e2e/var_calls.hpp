// The variables tests' one HTTP call to an agent (tests/e2e/vars_test.cpp, var_lock_test.cpp):
// any method, a token when one is given, the reply's status and body (0: no connection).
#pragma once

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <string>

#include "agent_process.hpp"

namespace drover::testing {

struct VarReply {
  int status = 0;
  std::string body;
  nlohmann::json j() const { return nlohmann::json::parse(body, nullptr, false); }
};

inline VarReply var_call(const AgentProcess& a, const std::string& method, const std::string& path,
                         const std::string& token = "", const std::string& body = "") {
  httplib::Client c("127.0.0.1", a.port());
  c.set_read_timeout(10);
  httplib::Headers h;
  if (!token.empty()) h.emplace("X-Nomad-Token", token);
  httplib::Result r = method == "GET"      ? c.Get(path.c_str(), h)
                      : method == "DELETE" ? c.Delete(path.c_str(), h)
                      : method == "PUT"    ? c.Put(path.c_str(), h, body, "application/json")
                                           : c.Post(path.c_str(), h, body, "application/json");
  if (!r) return {};
  return {r->status, r->body};
}

}  // namespace drover::testing
