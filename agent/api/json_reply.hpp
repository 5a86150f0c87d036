// Small helpers for JSON replies and errors, shared by the API's endpoint files.
#pragma once

#include <httplib.h>

#include <nlohmann/json.hpp>
#include <string>
#include "drover/common/json_text.hpp"

namespace drover::api {

inline void reply_json(httplib::Response& res, const nlohmann::json& body, int status = 200) {
  res.status = status;
  res.set_content(json_text(body), "application/json");
}

inline void reply_error(httplib::Response& res, int status, const std::string& message,
                        nlohmann::json extra = nlohmann::json::object()) {
  extra["error"] = message;
  reply_json(res, extra, status);
}

}  // namespace drover::api
