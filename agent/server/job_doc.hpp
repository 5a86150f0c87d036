// A job's spec (a job record's "Job") as the server holds it: its text, shared by the job's
// record, its version's record and every alloc of that version, and parsed only where a pass
// or a request reads inside it. Parsed, a one-task job is ~7 KiB of JSON nodes; its text is
// ~1.2 KiB: 10,000 jobs held parsed were 74 MiB of the leader's (docs/cluster.md, "Memory").
// What every pass asks of every live alloc's job (priority, type, a group's migrate
// max_parallel) and what a job list shows are worked out once, when the text is made.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace drover::server {

class JobDoc {
 public:
  JobDoc() = default;  // none: an alloc or record without a Job
  // The document's text as json_text writes it (the form the server writes and compares).
  static JobDoc of(const nlohmann::json& doc);

  explicit operator bool() const { return held_ != nullptr; }
  const std::string& text() const;  // "null" for none
  // The parsed document: shared with every other holder of this text while one holds it,
  // parsed again after the last lets it go. A null JSON for none.
  std::shared_ptr<const nlohmann::json> parsed() const;
  bool same_text(std::string_view text) const { return held_ && held_->text == text; }
  // Whether both hold one copy.
  bool shares(const JobDoc& o) const { return held_ == o.held_; }

  struct Summary {
    std::string name, type = "service", parent_id;
    int priority = 50;
    bool is_object = false, periodic = false, parameterized = false, dispatched = false;
    std::map<std::string, int> migrate_max_parallel;  // by group, where its Migrate says
    // By group, where its Disconnect has a LostAfter: a node that goes leaves these `unknown`.
    std::map<std::string, int64_t> lost_after_ns;
  };
  const Summary& summary() const;

 private:
  struct Held {
    std::string text;
    Summary summary;
    mutable std::mutex mu;
    mutable std::weak_ptr<const nlohmann::json> parsed;
  };
  std::shared_ptr<const Held> held_;

  friend class JobDocShelf;
};

// One JobDoc per job version, for the holders of that version to share: a doc put here is
// handed to the next holder of the same text, as long as one holder keeps it.
class JobDocShelf {
 public:
  // `doc`, or the shelf's copy of the same text for `job`'s `version`.
  JobDoc share(const std::string& job, int version, JobDoc doc);
  // The shelf's doc of `job`'s `version` when its text is `text`, else none.
  JobDoc find(const std::string& job, int version, std::string_view text) const;

 private:
  std::map<std::pair<std::string, int>, std::weak_ptr<const JobDoc::Held>> docs_;
  std::size_t puts_ = 0;
};

// A job record (keys.hpp job, job_version): ID, Namespace, Version, Stop, SubmitTime, Stable
// as parsed JSON, and its Job as a JobDoc.
struct JobRecord {
  nlohmann::json head = nlohmann::json::object();  // the record but its Job
  JobDoc job;

  JobRecord() = default;
  // A record from its JSON (a plan's, a test's).
  JobRecord(const nlohmann::json& rec);  // NOLINT(google-explicit-constructor)

  bool is_object() const { return head.is_object(); }
  int version() const { return head.value("Version", 0); }
  bool stopped() const { return head.value("Stop", false); }
  template <typename T>
  T value(const char* name, T fallback) const {
    return head.value(name, fallback);
  }
  std::string value(const char* name, const char* fallback) const {
    return head.value(name, fallback);
  }
  // The record as JSON, its Job parsed in; and as text, as json_text of that would write it.
  nlohmann::json as_json() const;
  std::string text() const;
};

}  // namespace drover::server
