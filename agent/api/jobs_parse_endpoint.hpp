// POST /v1/jobs/parse, as Nomad's: {"JobHCL": "...", "Variables": "...", "Canonicalize": bool}
// -> the job as Nomad JSON (the object `{"Job": ...}` holds, without the wrapper). Variables
// is the text of a variables file (name = value lines). Canonicalize: the job with drover's
// defaults applied and checked, as a submit would store it. The file functions are refused:
// the agent reads none of its own files for a job.
#pragma once

namespace httplib {
class Server;
}

namespace drover::api {

void register_jobs_parse_endpoint(httplib::Server& server);

}  // namespace drover::api
