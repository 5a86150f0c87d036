// A job's spec held as text; see job_doc.hpp.
#include "server/job_doc.hpp"

#include "drover/common/json_text.hpp"

namespace drover::server {

using nlohmann::json;

namespace {

JobDoc::Summary summary_of(const json& doc) {
  JobDoc::Summary s;
  if (!doc.is_object()) return s;
  s.is_object = true;
  auto str = [&](const char* k, const std::string& fallback) {
    auto it = doc.find(k);
    return it != doc.end() && it->is_string() ? it->get<std::string>() : fallback;
  };
  s.name = str("Name", "");
  s.type = str("Type", "service");
  s.parent_id = str("ParentID", "");
  if (auto p = doc.find("Priority"); p != doc.end() && p->is_number_integer())
    s.priority = p->get<int>();
  auto set = [&](const char* k) {
    auto it = doc.find(k);
    return it != doc.end() && !it->is_null();
  };
  s.periodic = set("Periodic");
  s.parameterized = set("ParameterizedJob");
  if (auto d = doc.find("Dispatched"); d != doc.end() && d->is_boolean()) s.dispatched = *d;
  if (auto groups = doc.find("TaskGroups"); groups != doc.end() && groups->is_array())
    for (const auto& g : *groups) {
      if (!g.is_object()) continue;
      auto name = g.find("Name");
      if (name == g.end() || !name->is_string()) continue;
      if (auto d = g.find("Disconnect"); d != g.end() && d->is_object())
        if (auto l = d->find("LostAfter"); l != d->end() && l->is_number_integer() && *l > 0)
          s.lost_after_ns[name->get<std::string>()] = l->get<int64_t>();
      auto m = g.find("Migrate");
      if (m == g.end() || !m->is_object()) continue;
      auto n = m->find("MaxParallel");
      if (n != m->end() && n->is_number_integer())
        s.migrate_max_parallel[name->get<std::string>()] = n->get<int>();
    }
  return s;
}

}  // namespace

JobDoc JobDoc::of(const json& doc) {
  auto held = std::make_shared<Held>();
  held->text = json_text(doc);
  held->summary = summary_of(doc);
  JobDoc d;
  d.held_ = std::move(held);
  return d;
}

const std::string& JobDoc::text() const {
  static const std::string kNull = "null";
  return held_ ? held_->text : kNull;
}

std::shared_ptr<const json> JobDoc::parsed() const {
  if (!held_) {
    static const auto kNone = std::make_shared<const json>();
    return kNone;
  }
  std::lock_guard lock(held_->mu);
  if (auto p = held_->parsed.lock()) return p;
  auto p = std::make_shared<const json>(json::parse(held_->text, nullptr, false));
  held_->parsed = p;
  return p;
}

const JobDoc::Summary& JobDoc::summary() const {
  static const Summary kNone;
  return held_ ? held_->summary : kNone;
}

JobDoc JobDocShelf::share(const std::string& job, int version, JobDoc doc) {
  if (!doc) return doc;
  // Now and then, the versions no holder keeps any more go.
  if (++puts_ % 4096 == 0) std::erase_if(docs_, [](const auto& e) { return e.second.expired(); });
  auto& slot = docs_[{job, version}];
  if (auto held = slot.lock()) {
    if (held == doc.held_ || held->text == doc.held_->text) {
      JobDoc same;
      same.held_ = std::move(held);
      return same;
    }
  }
  slot = doc.held_;
  return doc;
}

JobDoc JobDocShelf::find(const std::string& job, int version, std::string_view text) const {
  JobDoc d;
  auto it = docs_.find({job, version});
  if (it == docs_.end()) return d;
  if (auto held = it->second.lock(); held && held->text == text) d.held_ = std::move(held);
  return d;
}

JobRecord::JobRecord(const json& rec) {
  if (!rec.is_object()) {
    head = rec;
    return;
  }
  for (const auto& [name, value] : rec.items())
    if (name != "Job") head[name] = value;
  if (auto j = rec.find("Job"); j != rec.end()) job = JobDoc::of(*j);
}

json JobRecord::as_json() const {
  json j = head;
  if (job && j.is_object()) j["Job"] = *job.parsed();
  return j;
}

std::string JobRecord::text() const {
  if (!job || !head.is_object()) return json_text(head);
  // The Job spliced in where json_text puts it: members in key order.
  std::string out = "{";
  bool placed = false;
  auto member = [&](const std::string& name, const std::string& value) {
    if (out.size() > 1) out += ',';
    out += json_text(json(name));
    out += ':';
    out += value;
  };
  for (const auto& [name, value] : head.items()) {
    if (!placed && std::string("Job") < name) {
      member("Job", job.text());
      placed = true;
    }
    member(name, json_text(value));
  }
  if (!placed) member("Job", job.text());
  out += '}';
  return out;
}

}  // namespace drover::server
