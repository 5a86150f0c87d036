// The HCL parse endpoint; see jobs_parse_endpoint.hpp.
#include "api/jobs_parse_endpoint.hpp"

#include "api/json_reply.hpp"
#include "jobspec/hcl_job.hpp"

namespace drover::api {

namespace {

using nlohmann::json;

void reply_problems(httplib::Response& res, const std::vector<jobspec::Problem>& problems) {
  json list = json::array();
  for (const auto& p : problems) list.push_back({{"path", p.path}, {"message", p.message}});
  reply_error(res, 400,
              "job is invalid (" + std::to_string(problems.size()) + " problem" +
                  (problems.size() == 1 ? "" : "s") + ")",
              {{"problems", list}});
}

void parse_endpoint(const httplib::Request& req, httplib::Response& res) {
  json body = json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object()) return reply_error(res, 400, "the body must be a JSON object");
  auto hcl = body.find("JobHCL");
  if (hcl == body.end() || !hcl->is_string() || hcl->get_ref<const std::string&>().empty())
    return reply_error(res, 400, "JobHCL: the job file's HCL text is required");
  const std::string& text = hcl->get_ref<const std::string&>();
  if (text.size() > jobspec::kMaxJobDocumentBytes)
    return reply_error(res, 400,
                       "JobHCL is " + std::to_string(text.size()) + " bytes; the limit is " +
                           std::to_string(jobspec::kMaxJobDocumentBytes) + " (1 MiB)");
  jobspec::HclJobOptions options;  // no base_dir: the file functions are refused
  auto vars = body.find("Variables");
  if (vars != body.end() && !vars->is_null()) {
    if (!vars->is_string()) return reply_error(res, 400, "Variables must be a string");
    if (!vars->get_ref<const std::string&>().empty())
      options.variables.files.emplace_back("Variables", vars->get<std::string>());
  }
  auto canonicalize = body.find("Canonicalize");
  if (canonicalize != body.end() && canonicalize->is_boolean() && canonicalize->get<bool>()) {
    auto parsed = jobspec::parse_job(text, options);
    if (!parsed.job) return reply_problems(res, parsed.problems);
    return reply_json(res, jobspec::to_json(*parsed.job));
  }
  auto mapped = jobspec::hcl_to_nomad_json(text, options);
  if (!mapped.doc) return reply_problems(res, mapped.problems);
  reply_json(res, (*mapped.doc)["Job"]);
}

}  // namespace

void register_jobs_parse_endpoint(httplib::Server& s) {
  s.Post("/v1/jobs/parse",
         [](const httplib::Request& req, httplib::Response& res) { parse_endpoint(req, res); });
}

}  // namespace drover::api
