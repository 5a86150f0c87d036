// Small helpers for JSON replies and errors, shared by the API's endpoint files.
#pragma once

#include <httplib.h>

#include <spdlog/spdlog.h>

#include <exception>
#include <nlohmann/json.hpp>
#include <string>

#include "drover/common/result.hpp"
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

// The one table from an error's kind to its HTTP status (common/result.hpp, Errc).
inline int http_status(Errc code) {
  switch (code) {
    case Errc::Invalid: return 400;
    case Errc::Ambiguous: return 400;
    case Errc::NotFound: return 404;
    case Errc::Conflict: return 409;
    case Errc::Unsupported: return 501;
    case Errc::Gone: return 410;
    case Errc::Internal:
    case Errc::NeverStarted: break;
  }
  return 500;
}

// Replies with the error's message and the status its kind maps to.
inline void reply_error(httplib::Response& res, const Error& error) {
  reply_error(res, http_status(error.code), error.message);
}

// A handler's uncaught exception as a 500 naming it, logged (the agent's and the server's
// exception handler; without one cpp-httplib answers an empty 500).
inline void reply_exception(const httplib::Request& req, httplib::Response& res,
                            std::exception_ptr ep) {
  std::string what = "internal error";
  try {
    if (ep) std::rethrow_exception(ep);
  } catch (const std::exception& e) {
    what = e.what();
  } catch (...) {
  }
  spdlog::error("{} {}: {}", req.method, req.path, what);
  reply_error(res, 500, "internal error: " + what);
}

}  // namespace drover::api
