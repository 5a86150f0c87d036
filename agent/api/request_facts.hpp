// A request as authorize() reads it (api/request_authz.hpp): for the .cpp files that already
// include cpp-httplib.
#pragma once

#include <httplib.h>

#include "api/request_authz.hpp"

namespace drover::api {

inline RequestFacts request_facts(const httplib::Request& req, std::string_view secret) {
  RequestFacts f{req.method, req.path, secret, std::nullopt};
  if (req.has_param("namespace")) f.namespace_param = req.get_param_value("namespace");
  f.alloc_param = req.get_param_value("allocID");
  return f;
}

// An exec websocket's token from its first message, named briefly for the close frame.
inline RequestFacts exec_facts(const httplib::Request& req, std::string_view secret) {
  auto f = request_facts(req, secret);
  f.label = "exec in a task";
  return f;
}

}  // namespace drover::api
