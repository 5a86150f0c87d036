// A job-model struct's JSON fields, listed once for both directions. Each struct that is
// written and read has, in the .cpp that needs it,
//
//   static void fields(Of<RestartPolicy> auto& r, auto& io) {
//     io("Attempts", r.attempts);
//     io("Interval", r.interval);
//   }
//
// and write_fields / read_fields walk that list: FieldWriter puts each member under its key
// (durations in nanoseconds, Nomad's unit; an empty optional as null), FieldReader takes each
// key that is present and not null and leaves the member as it was otherwise (so defaults
// hold for what a client leaves out). A field added to the list is in both directions.
#pragma once

#include <concepts>
#include <cstdint>
#include <optional>
#include <type_traits>

#include <nlohmann/json.hpp>

#include "jobspec/job.hpp"

namespace drover::jobspec {

// `Of<T> auto& s` binds a T and a const T alike: the writer lists a const struct, the reader
// a mutable one, through the same `fields`.
template <class S, class T>
concept Of = std::same_as<std::remove_const_t<S>, T>;

class FieldWriter {
 public:
  explicit FieldWriter(nlohmann::json& out) : out_(out) {}
  template <class T>
  void operator()(const char* key, const T& value) {
    out_[key] = value;
  }
  void operator()(const char* key, Duration value) { out_[key] = value.count(); }
  template <class T>
  void operator()(const char* key, const std::optional<T>& value) {
    out_[key] = value ? nlohmann::json(*value) : nlohmann::json(nullptr);
  }
  void operator()(const char* key, const std::optional<Duration>& value) {
    out_[key] = value ? nlohmann::json(value->count()) : nlohmann::json(nullptr);
  }

 private:
  nlohmann::json& out_;
};

class FieldReader {
 public:
  explicit FieldReader(const nlohmann::json& in) : in_(in) {}
  template <class T>
  void operator()(const char* key, T& value) {
    if (const auto* j = find(key)) value = j->get<T>();
  }
  void operator()(const char* key, Duration& value) {
    if (const auto* j = find(key)) value = Duration(j->get<std::int64_t>());
  }
  template <class T>
  void operator()(const char* key, std::optional<T>& value) {
    if (const auto* j = find(key)) value = j->get<T>();
  }
  void operator()(const char* key, std::optional<Duration>& value) {
    if (const auto* j = find(key)) value = Duration(j->get<std::int64_t>());
  }

 private:
  const nlohmann::json* find(const char* key) const {
    if (!in_.is_object()) return nullptr;
    auto it = in_.find(key);
    return it == in_.end() || it->is_null() ? nullptr : &*it;
  }
  const nlohmann::json& in_;
};

// `fields` is found where the struct is declared (drover::jobspec), at the point of use.
template <class T>
nlohmann::json write_fields(const T& s) {
  nlohmann::json out = nlohmann::json::object();
  FieldWriter writer(out);
  fields(s, writer);
  return out;
}

template <class T>
T read_fields(const nlohmann::json& in, T s = {}) {
  FieldReader reader(in);
  fields(s, reader);
  return s;
}

}  // namespace drover::jobspec
