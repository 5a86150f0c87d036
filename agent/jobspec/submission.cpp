// Job submissions kept beside the job; see submission.hpp.
#include "jobspec/submission.hpp"

#include "jobspec/hcl/hcl.hpp"

namespace drover::jobspec {

using nlohmann::json;

Result<SplitBody> split_submission(std::string body) {
  if (hcl::looks_like_hcl(body)) {
    json sub = {{"Source", body}, {"Format", "hcl2"}, {"Variables", ""},
                {"VariableFlags", json::object()}};
    return SplitBody{std::move(body), std::move(sub)};
  }
  json doc = json::parse(body, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object() || !doc.contains("Job") || !doc.contains("Submission"))
    return SplitBody{std::move(body), nullptr};
  json sub = doc["Submission"];
  doc.erase("Submission");
  if (sub.is_null()) return SplitBody{doc.dump(), nullptr};
  if (!sub.is_object())
    return make_error("Submission: must be an object {Source, Format, Variables, VariableFlags}",
                      Errc::Invalid);
  if (!sub.value("Source", json()).is_string())
    return make_error("Submission.Source: must be the job file's text", Errc::Invalid);
  if (!sub.value("Format", json()).is_string())
    return make_error("Submission.Format: must be a string (\"hcl2\", \"json\")", Errc::Invalid);
  if (sub.contains("Variables") && !sub["Variables"].is_string() && !sub["Variables"].is_null())
    return make_error("Submission.Variables: must be a string (a var file's text)", Errc::Invalid);
  if (sub.contains("VariableFlags") && !sub["VariableFlags"].is_object() &&
      !sub["VariableFlags"].is_null())
    return make_error("Submission.VariableFlags: must be an object of strings", Errc::Invalid);
  // Absent or null: none, as Nomad's empty values.
  const json vars = sub.value("Variables", json());
  const json flags = sub.value("VariableFlags", json());
  json kept = {{"Source", sub["Source"]},
               {"Format", sub["Format"]},
               {"Variables", vars.is_string() ? vars : json("")},
               {"VariableFlags", flags.is_object() ? flags : json::object()}};
  return SplitBody{doc.dump(), std::move(kept)};
}

json submission_reply(const json& submission, const std::string& ns, const std::string& id,
                      int64_t version) {
  json out = submission;
  out["JobID"] = id;
  out["Namespace"] = ns;
  out["Version"] = version;
  return out;
}

}  // namespace drover::jobspec
