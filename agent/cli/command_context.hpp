// What every CLI subcommand shares: where to write, the API client, the global -json flag,
// and the small helpers for reading the agent's JSON and reporting errors. Internal to the CLI.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cli/api_client.hpp"
#include "cli/cli.hpp"

namespace CLI {
class App;
}

namespace drover::cli {

struct Context {
  std::ostream& out;
  std::ostream& err;
  ApiClient api;
  bool json = false;  // -json: print the raw API JSON instead of tables
  // -namespace, else $DROVER_NAMESPACE, else $NOMAD_NAMESPACE; "" when none (the agent's
  // default, "default"). "*" lists every namespace.
  std::string ns;
  std::istream* in = nullptr;  // the user's answers to a prompt; null: none (as EOF)
};

// Prints `question` and reads one line of `ctx.in`: true for y/yes, false for n/no, and
// `default_yes` for an empty line; false at EOF (a script without a terminal is never taken to
// agree).
bool ask_yes(Context& ctx, const std::string& question, bool default_yes);

// `path` with the context's namespace as its ?namespace= (or &namespace=) query; `path` as it
// is when no namespace was given.
std::string with_namespace(const Context& ctx, const std::string& path);

// The subcommand CLI11 selected, run after parsing when the global flags are known.
using Handler = std::function<int(Context&)>;

// Each command group adds its subcommands to `app`; the chosen one stores its handler in
// `selected` from its CLI11 callback.
void add_agent_command(CLI::App& app, Handler& selected, AgentRunner run_agent);
void add_server_command(CLI::App& app, Handler& selected, ServerRunner run_server);
void add_job_commands(CLI::App& app, Handler& selected);
// job history|revert|scale, under the `job` command.
void add_job_version_commands(CLI::App& job, Handler& selected);
void add_job_restart_command(CLI::App& job, Handler& selected);
void add_job_init_command(CLI::App& job, Handler& selected);
// job start: a stopped job run again as its latest version, under the `job` command.
void add_job_start_command(CLI::App& job, Handler& selected);
// After a job was submitted (`answer` the API's, `body` what was sent): a server's evaluation
// awaited unless `detach`, what was placed printed, its allocs and a rolling update's
// deployment followed, as `job run` does; its exit code.
int report_submission(Context& ctx, nlohmann::json& answer, const std::string& body, bool detach);
void add_alloc_commands(CLI::App& app, Handler& selected);
void add_alloc_checks_command(CLI::App& alloc, Handler& selected);
void add_job_action_commands(CLI::App& app, CLI::App& job, Handler& selected);  // and `action`
// deployment list|status|promote|pause|resume|fail (a server's).
void add_deployment_commands(CLI::App& app, Handler& selected);
// eval list|status, and `job eval` under the `job` command (a server's).
void add_eval_commands(CLI::App& app, CLI::App& job, Handler& selected);
void add_node_commands(CLI::App& app, Handler& selected);
// node meta read|apply, under the `node` command.
void add_node_meta_commands(CLI::App& node, Handler& selected);
// node pool list|info|nodes|jobs|apply|delete, under the `node` command (a server's).
void add_node_pool_commands(CLI::App& node, Handler& selected);
void add_plugin_commands(CLI::App& app, Handler& selected);
void add_service_commands(CLI::App& app, Handler& selected);
void add_config_commands(CLI::App& app, Handler& selected);
void add_system_commands(CLI::App& app, Handler& selected);  // system gc (a server's)
void add_var_commands(CLI::App& app, Handler& selected);
// var lock, under the `var` command.
void add_var_lock_command(CLI::App& var, Handler& selected);
// /v1/var/<path>?namespace=<ns>[&cas=N], each path segment escaped on its own.
std::string var_url(const std::string& path, const std::string& ns,
                    std::optional<std::uint64_t> cas = std::nullopt);
// acl token create|list|self|info|delete, acl policy ..., acl role ...
void add_acl_commands(CLI::App& app, Handler& selected);
// acl auth-method ... and acl binding-rule ..., under the `acl` command.
void add_acl_auth_commands(CLI::App& acl, Handler& selected);
// login: an ACL token for a JWT, through an auth method.
void add_login_command(CLI::App& app, Handler& selected);
// tls ca create|info, tls cert create|info: the API's certificates, made offline.
void add_tls_commands(CLI::App& app, Handler& selected);
// operator debug: a support bundle of the agent's state, metrics and log (a .tar.gz).
void add_operator_debug_command(CLI::App& op, Handler& selected);
// agent-info: the agent's /v1/agent/self stats.
void add_agent_info_command(CLI::App& app, Handler& selected);
// ui [-show-url] [ID]: the web UI's address (for a job, alloc or node), opened where a
// desktop session can open it.
void add_ui_command(CLI::App& app, Handler& selected);

// The API's answer: its error, or the answer as JSON with -json, else as `render` shows it.
int print_answer(Context& ctx, const Result<nlohmann::json>& answer,
                 const std::function<void(const nlohmann::json&)>& render);
// A subcommand of one required argument that runs `run` with it.
void add_one_arg_command(CLI::App* parent, Handler& selected, const char* name, const char* help,
                         const char* arg, const char* arg_help,
                         std::function<int(Context&, const std::string&)> run);
// namespace list|status (apply and delete say why they are not needed).
void add_namespace_commands(CLI::App& app, Handler& selected);
// volume create|register|status|delete (dynamic host volumes).
void add_volume_commands(CLI::App& app, Handler& selected);
// status [ID]: the jobs, or what an id names.
void add_status_command(CLI::App& app, Handler& selected);  // var and operator root keyring
// operator scheduler get-config|set-config, under the `operator` command.
void add_operator_scheduler_commands(CLI::App& op, Handler& selected);
// monitor [-log-level L] [-json] [-node-id N | -server-id S]: the agent's own log, followed.
void add_monitor_command(CLI::App& app, Handler& selected);
// operator api [-X METHOD] PATH, under the `operator` command.
void add_operator_api_command(CLI::App& op, Handler& selected);
// operator snapshot save|inspect|restore, under the `operator` command; restore runs the
// server's code (`run_server` with restore_snapshot set).
void add_operator_snapshot_commands(CLI::App& op, Handler& selected, ServerRunner run_server);

// `--log-level` of the daemons (agent, server): trace, debug, info, warn or error, any case.
void add_log_level_option(CLI::App* cmd, std::string& level);

// Prints "Error: <message>" to err and returns the exit code 1.
int print_error(Context& ctx, const std::string& message);

// Writes `text` to a new file `path` with `mode`, never over an existing one (O_EXCL: nor
// through a link planted in its place); a half-written file is removed (Conflict when it
// exists). What `job init`, `var init` and `tls ... create` write.
Status write_new_file(const std::string& path, const std::string& text, unsigned mode);

// GETs `path` and prints its list as a table of (header, string field) columns; -json prints
// the answer. 1 when the API could not be asked or refused.
int print_list(Context& ctx, const std::string& path,
               const std::vector<std::pair<std::string, const char*>>& columns);
// Pretty-prints the API's JSON (for -json).
void print_json(Context& ctx, const nlohmann::json& value);

// Tolerant field readers: a missing or null field (or one of another type) reads as empty/0,
// so that an older or newer agent's answer still prints.
std::string str_field(const nlohmann::json& obj, const char* key);
std::int64_t int_field(const nlohmann::json& obj, const char* key);
bool bool_field(const nlohmann::json& obj, const char* key);

// The first 8 characters of an id, as Nomad's CLI shows them in tables.
std::string short_id(const std::string& id);

}  // namespace drover::cli
