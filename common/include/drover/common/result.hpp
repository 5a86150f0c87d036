// Result<T>: errors as values at module boundaries (docs/style.md, "Errors"). A failed Result
// carries a message with context (which alloc, which task, which file); it never throws.
#pragma once

#include <string>
#include <utility>
#include <variant>

namespace drover {

// What kind of failure an error is, so that callers decide by code, never by matching the
// message's text: the API maps each to one HTTP status (api/json_reply.hpp), the task
// runner acts on NeverStarted.
enum class Errc {
  Internal,      // a fault of the agent or the node (500)
  Invalid,       // the request or the job is wrong; the message names the field (400)
  NotFound,      // no such job, alloc or task (404)
  Ambiguous,     // an ID prefix that matches more than one (400)
  Conflict,      // the request cannot be done in the current state: the job does not fit,
                 // the task is not running (409)
  Unsupported,   // the driver or the agent cannot do it (501)
  NeverStarted,  // recover of a Starting handle: the driver is sure the task never started
  Gone,          // what was asked for existed once and is gone for good: a watch from an
                 // etcd revision that was compacted away (410)
};

struct Error {
  std::string message;
  Errc code = Errc::Internal;
};

inline Error make_error(std::string message, Errc code = Errc::Internal) {
  return Error{std::move(message), code};
}

template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}
  Result(Error error) : v_(std::move(error)) {}

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const Error& error() const { return std::get<1>(v_); }
  const std::string& message() const { return error().message; }
  Errc code() const { return error().code; }

 private:
  std::variant<T, Error> v_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : err_(std::move(error)), failed_(true) {}

  bool ok() const { return !failed_; }
  explicit operator bool() const { return ok(); }
  const Error& error() const { return err_; }
  const std::string& message() const { return err_.message; }
  Errc code() const { return err_.code; }

 private:
  Error err_;
  bool failed_ = false;
};

using Status = Result<void>;

}  // namespace drover
