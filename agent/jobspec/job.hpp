// The job model: what a user submits, after parsing (YAML or Nomad JSON) and defaults.
// Both parsers fill these structs; validation, the state store and the runners read them.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace drover::jobspec {

using Duration = std::chrono::nanoseconds;

// system: one alloc on this node, restarted like a service; sysbatch: one alloc on this node,
// run to completion like batch (docs/jobspec.md, "job").
enum class JobType { Service, Batch, System, SysBatch };

struct RestartPolicy {
  int attempts = 2;
  Duration interval = std::chrono::minutes(30);
  Duration delay = std::chrono::seconds(15);
  std::string mode = "fail";  // fail | delay
  // Nomad's render_templates: kept and shown; drover renders a task's templates before every
  // start anyway (docs/templates.md, "When it renders").
  bool render_templates = false;
  bool operator==(const RestartPolicy&) const = default;
};

// Nomad's `reschedule`: when the servers place a failed alloc again, on another node
// (docs/cluster.md, "Rescheduling"). A node agent never acts on it.
struct ReschedulePolicy {
  int attempts = 0;  // within `interval`; 0 with unlimited false: never
  Duration interval{0};
  Duration delay = std::chrono::seconds(30);
  std::string delay_function = "exponential";  // constant | exponential | fibonacci
  Duration max_delay = std::chrono::hours(1);  // 0: no ceiling
  bool unlimited = true;
  bool operator==(const ReschedulePolicy&) const = default;
};

struct LogConfig {
  int max_files = 10;
  int max_file_size_mb = 10;
  bool disabled = false;
  bool operator==(const LogConfig&) const = default;
};

struct Lifecycle {
  std::string hook;  // "" (main task) | prestart | poststart | poststop
  bool sidecar = false;
  bool operator==(const Lifecycle&) const = default;
};

// Nomad's `affinity` (a job's, group's or task's; on one node it changes nothing), and a
// device request's, where it prefers device groups by their attributes (docs/devices.md).
struct Affinity {
  std::string attribute;
  std::string op = "=";
  std::string value;
  int weight = 50;  // -100..100, not 0
  bool operator==(const Affinity&) const = default;
};

struct DeviceRequest {
  std::string name;  // vendor/type[/model] or type
  int count = 1;
  nlohmann::json constraints = nlohmann::json::array();  // [{attribute, operator, value}]
  std::vector<Affinity> affinities;  // on ${device.attr.X}, ${device.model}...
  bool operator==(const DeviceRequest&) const = default;
};

// --- Networks and ports (docs/networking.md) ---------------------------------------------
// One `port "label" { static, to, host_network }`: Nomad's Port.
struct Port {
  std::string label;
  int value = 0;             // the static host port; 0 for a dynamic one
  int to = 0;                // the port inside the task (docker's port mapping); 0: the host port
  std::string host_network;  // "" : the node's default network
  bool operator==(const Port&) const = default;
};

// A `network` block (group level, or the older task-level resources.network): Nomad's
// NetworkResource, with static ports in reserved_ports and dynamic ones in dynamic_ports.
// A group network's `dns { servers, searches, options }` (Nomad's DNSConfig): the resolv.conf
// its tasks see instead of the host's (docs/networking.md, "DNS").
struct DnsConfig {
  std::vector<std::string> servers;   // IP addresses
  std::vector<std::string> searches;  // search domains
  std::vector<std::string> options;   // resolv.conf options (ndots:2, edns0, ...)
  bool operator==(const DnsConfig&) const = default;
};

// Nomad's DNSConfig JSON: {"Servers": [...], "Searches": [...], "Options": [...]}.
nlohmann::json dns_to_json(const DnsConfig& d);

struct Network {
  std::string mode = "host";  // host, bridge, none or cni/<name> (docs/networking.md)
  int mbits = 0;              // accepted, not enforced
  std::vector<Port> reserved_ports;
  std::vector<Port> dynamic_ports;
  std::optional<DnsConfig> dns;  // a group network's only
  // Nomad's `hostname`: the alloc's hostname in mode bridge or none (a group network's only;
  // interpolated at start, docs/networking.md "Hostname").
  std::string hostname;
  // Nomad's `cni { args }`: CNI_ARGS for the plugins of mode bridge or cni/<name>.
  std::map<std::string, std::string> cni_args;
  bool operator==(const Network&) const = default;
};
// A CNI network's name (the `x` of mode "cni/x"): an alphanumeric, then alphanumerics, '_', '.'
// or '-', as the CNI spec says.
bool is_cni_network_name(std::string_view name);
// Mode "cni/<name>": a network the operator configured on the node (docs/networking.md).
bool is_cni_mode(std::string_view mode);
// The modes that give an alloc a network namespace of its own: bridge, none, cni/<name>.
bool isolated_network_mode(std::string_view mode);
// --- end networks ------------------------------------------------------------------------

struct Resources {
  int cpu_mhz = 100;
  int cores = 0;
  int memory_mb = 300;
  int memory_max_mb = 0;  // 0: no separate hard limit
  int pids = 0;           // 0: the agent's default
  // Nomad's old task-level `disk`: accepted and ignored as Nomad ignores it, with a warning
  // at submit (a group's disk is its ephemeral_disk.size).
  int disk_mb = 0;
  std::vector<DeviceRequest> devices;
  std::vector<Network> networks;  // the older task-level network block
  // Nomad's `numa { affinity }` for the task's cores: "" (no block, as "none"), "none",
  // "prefer" or "require" (docs/cgroups.md, "NUMA").
  std::string numa_affinity;
  // Nomad's `numa { devices }`: names of the task's device requests whose instances must be
  // on the NUMA node of its cores (docs/cgroups.md, "NUMA").
  std::vector<std::string> numa_devices;
  bool operator==(const Resources&) const = default;
};

// check_restart: restart the task after `limit` consecutive failing results, never within
// `grace` of its start. limit 0: never.
struct CheckRestart {
  int limit = 0;
  Duration grace = std::chrono::seconds(1);
  bool ignore_warnings = false;
  bool operator==(const CheckRestart&) const = default;
};

// One health check (Nomad's service `check` block), run by the agent itself.
struct Check {
  std::string name;
  std::string type;  // http | tcp | script
  std::string path;  // http
  std::string method = "GET";
  std::string protocol = "http";  // http | https
  std::map<std::string, std::vector<std::string>> header;
  // A port label of the alloc's networks, a literal "port" or "host:port"; empty: the
  // service's port.
  std::string port;
  std::string command;  // script
  std::vector<std::string> args;
  // A group service's script check: the task it runs in (Nomad's `task`, TaskName); "": the
  // group's main task. A task's own services leave it empty.
  std::string task;
  Duration interval = std::chrono::seconds(10);
  Duration timeout = std::chrono::seconds(2);
  std::optional<CheckRestart> check_restart;
  // Nomad's `on_update` (the check's, else its service's): how its result counts for the
  // alloc's deployment health (docs/health.md): require_healthy (passing only),
  // ignore_warnings (a warning passes), ignore (any result but none yet passes).
  std::string on_update = "require_healthy";
  // Nomad's `initial_status` (passing, warning, critical or empty): kept and shown; as with
  // Nomad's own provider, a check is pending until its first result.
  std::string initial_status;
  bool operator==(const Check&) const = default;
};

// Nomad's `service` block: registered in drover's catalog while its task runs, its checks run
// locally for the alloc's health, whatever the provider says (docs/networking.md).
struct Service {
  std::string name;
  std::string port;     // a port label, or a literal "port" or "host:port"
  std::string address;  // host for a port-only value; default 127.0.0.1
  std::string provider = "nomad";
  // Which address and port the catalog gets (docs/networking.md): auto, host, driver, alloc.
  std::string address_mode = "auto";
  std::vector<std::string> tags;
  std::vector<Check> checks;
  // Read, checked and kept, and registered nowhere: Nomad's own provider registers none of
  // them either (docs/networking.md, "Services").
  std::map<std::string, std::string> meta, canary_meta, tagged_addresses;
  bool enable_tag_override = false;
  bool operator==(const Service&) const = default;
};

// --- Placement (constraint, affinity, spread): docs/jobspec.md, "constraints". ---

// Nomad's `constraint`: {LTarget, Operand, RTarget}. Evaluated against this node at admission
// (runner/constraints.hpp); a job whose constraints this node fails is refused with 409.
struct Constraint {
  std::string attribute;  // LTarget: "${attr.kernel.name}", "${meta.rack}", "${node.class}"
  std::string op = "=";   // Operand
  std::string value;      // RTarget
  bool operator==(const Constraint&) const = default;
};

struct SpreadTarget {
  std::string value;
  int percent = 0;
  bool operator==(const SpreadTarget&) const = default;
};

// Nomad's `spread`: kept and shown; on one node it changes nothing.
struct Spread {
  std::string attribute;
  int weight = 0;  // 0..100
  std::vector<SpreadTarget> targets;
  bool operator==(const Spread&) const = default;
};

// The placement blocks a job, group or task may carry.
struct Placement {
  std::vector<Constraint> constraints;
  std::vector<Affinity> affinities;
  std::vector<Spread> spreads;  // job and group only, as in Nomad
  bool operator==(const Placement&) const = default;
};

// --- end of placement ---

// Nomad's task `dispatch_payload`: where a dispatched job's payload is written, relative to
// the task's local/ dir.
struct DispatchPayload {
  std::string file;
  bool operator==(const DispatchPayload&) const = default;
};

// Nomad's task `identity` block (docs/variables.md, "Workload identities"): a workload
// identity JWT put in the task's env and/or a file. The default identity (no name) reaches the
// API; a named one is for another audience (Vault, a cloud's OIDC) and may expire, to be
// renewed while the task runs.
struct Identity {
  std::string name;  // "" for the default identity (Nomad's "default")
  std::vector<std::string> audience;  // aud; empty: the default's "nomadproject.io"
  bool env = false;   // NOMAD_TOKEN, or NOMAD_TOKEN_<name>
  bool file = false;  // secrets/nomad_token, or secrets/nomad_<name>.jwt
  // Where `file` writes the token, from the task dir (Nomad's filepath, e.g.
  // "local/nomad_token"); "": the default place above.
  std::string filepath;
  Duration ttl{0};  // 0: no expiry; else renewed before it expires
  std::string change_mode = "noop";  // on renewal: noop, restart, signal
  std::string change_signal;
  std::map<std::string, std::string> extra_claims;  // ${job.id}-style values interpolated
  bool operator==(const Identity&) const = default;
};

// Nomad's task `artifact`: a file, archive or git tree fetched into the task dir before the
// task first starts (docs/artifacts.md). Nomad's JSON names in the comments.
struct Artifact {
  std::string source;                          // GetterSource
  std::map<std::string, std::string> options;  // GetterOptions: checksum, archive, ref, ...
  std::map<std::string, std::string> headers;  // GetterHeaders
  std::string mode = "any";                    // GetterMode: any, file, dir
  std::string destination = "local/";          // RelativeDest, relative to the task dir
  bool chown = false;                          // Chown: owned by the task's user
  bool operator==(const Artifact&) const = default;
};

// --- Templates (issue 19, docs/templates.md) ---------------------------------------------
// Nomad's `change_script`: run inside the task (or in its dir) after a re-render.
struct ChangeScript {
  std::string command;
  std::vector<std::string> args;
  Duration timeout = std::chrono::seconds(5);
  bool fail_on_error = false;
  bool operator==(const ChangeScript&) const = default;
};

// Nomad's template `wait`: how long data must be quiet before a re-render.
struct TemplateWait {
  Duration min{0};
  Duration max{0};
  bool operator==(const TemplateWait&) const = default;
};

// One `template` block (Nomad's Template): Go's text/template rendered beneath the task dir.
struct Template {
  std::string data;         // EmbeddedTmpl
  std::string source;       // SourcePath: a file beneath the task dir
  std::string destination;  // DestPath: beneath the task dir
  bool env = false;         // Envvars: KEY=value lines join the task's environment
  std::string change_mode = "restart";  // noop | restart | signal | script
  std::string change_signal;
  std::optional<ChangeScript> change_script;
  std::string perms = "0644";
  std::optional<int> uid, gid;
  std::string left_delimiter = "{{";
  std::string right_delimiter = "}}";
  Duration splay = std::chrono::seconds(5);
  std::optional<TemplateWait> wait;
  bool error_on_missing_key = false;
  bool once = false;
  bool operator==(const Template&) const = default;
};
// --- end templates -----------------------------------------------------------------------

// --- Volumes (docs/jobspec.md, "volumes") ---------------------------------------------------
// A group's `volume "name" { type = "host", source, read_only }`: Nomad's VolumeRequest. Only
// host volumes (the agent config's `host_volume`) exist on a node agent; csi is refused.
struct VolumeRequest {
  std::string name;
  std::string type = "host";
  std::string source;  // the host volume's name (the agent config's, or a dynamic one's)
  bool read_only = false;
  // A dynamic host volume's (docs/jobspec.md, "volumes"): the alloc's replacement goes where
  // the same volume (by its ID) is; the access and attachment modes it must offer ("": any).
  bool sticky = false;
  std::string access_mode;
  std::string attachment_mode;
  bool operator==(const VolumeRequest&) const = default;
};

// One of Nomad's host volume access modes: single-node-reader-only, single-node-writer,
// single-node-single-writer, single-node-multi-writer.
bool host_volume_access_mode(const std::string& mode);

// A task's `volume_mount { volume, destination, read_only }`: Nomad's VolumeMount.
struct VolumeMount {
  std::string volume;       // a group volume's name
  std::string destination;  // an absolute path inside the task's filesystem
  bool read_only = false;
  std::string propagation_mode = "private";  // private | host-to-task | bidirectional
  bool operator==(const VolumeMount&) const = default;
};

// A group's `ephemeral_disk`: the alloc dir's budget and whether alloc/data outlives the
// alloc (runner/alloc_dir.hpp).
struct EphemeralDisk {
  int size_mb = 300;     // Nomad's default; enforced by the disk-usage GC
  bool sticky = false;   // a replacement alloc of the same job and group takes over alloc/data
  bool migrate = false;  // another node's data: on one node the same as sticky
  bool operator==(const EphemeralDisk&) const = default;
};
// --- end volumes ---------------------------------------------------------------------------

// A task's `action` (Nomad 1.7): a command the job's author names, run inside the running task
// when someone asks for it by name, as `alloc exec` runs one (docs/jobspec.md, "actions").
struct Action {
  std::string name;
  std::string command;
  std::vector<std::string> args;
  bool operator==(const Action&) const = default;
};

struct Task {
  std::string name;
  std::string driver;
  std::string user;
  nlohmann::json config = nlohmann::json::object();  // driver's own snake_case keys
  std::map<std::string, std::string> env;
  Resources resources;
  Duration kill_timeout = std::chrono::seconds(5);
  std::string kill_signal;  // "" means the driver's default (SIGTERM for raw_exec)
  LogConfig logs;
  Lifecycle lifecycle;
  bool leader = false;
  std::map<std::string, std::string> meta;
  std::vector<Service> services;
  // Job semantics (issue 17): a task's own restart block, already merged over its group's
  // (as Nomad merges it); nullopt when the task has none or it equals the group's.
  std::optional<RestartPolicy> restart;
  Duration shutdown_delay{0};  // wait this long before sending the kill signal
  Placement placement;
  std::optional<DispatchPayload> dispatch_payload;
  std::optional<Identity> identity;    // the default identity's block
  std::vector<Identity> identities;    // named ones, in the order written
  std::vector<Artifact> artifacts;
  std::vector<Template> templates;  // issue 19
  std::vector<VolumeMount> volume_mounts;
  std::vector<Action> actions;
  bool operator==(const Task&) const = default;
};

struct UpdateStrategy {
  std::string health_check = "checks";  // checks | task_states | manual
  Duration min_healthy_time = std::chrono::seconds(10);
  Duration healthy_deadline = std::chrono::minutes(5);
  // Deployment pacing across many nodes, a servers' concern: kept and shown, and answered
  // with a warning at submit when set to anything but Nomad's defaults.
  int max_parallel = 1;
  Duration stagger = std::chrono::seconds(30);
  int canary = 0;
  bool auto_revert = false;
  bool auto_promote = false;
  Duration progress_deadline = std::chrono::minutes(10);
  bool operator==(const UpdateStrategy&) const = default;
};

// Nomad's `migrate`: how `drover server` moves a group's allocs off a draining node, and how
// the health of an alloc with no rolling update is judged (health/health_tracker.hpp).
struct MigrateStrategy {
  int max_parallel = 1;
  std::string health_check = "checks";  // checks | task_states
  Duration min_healthy_time = std::chrono::seconds(10);
  Duration healthy_deadline = std::chrono::minutes(5);
  bool operator==(const MigrateStrategy&) const = default;
};

// Nomad's `disconnect`: what the servers and the node do while the node is out of touch
// (docs/cluster.md, "Disconnected nodes"). Left out, a node that misses its heartbeats has its
// allocs lost and replaced at once.
struct DisconnectStrategy {
  // While the node is gone for less than this, its allocs are `unknown`, not lost; 0: lost at
  // once.
  Duration lost_after{0};
  // The node stops the group's allocs after it lost touch with the servers for this long, and
  // the servers place their replacements after it (and the longest kill_timeout). nullopt: never.
  std::optional<Duration> stop_on_client_after;
  // Whether an `unknown` alloc is replaced at once (else only once it is lost).
  bool replace = true;
  // Which to keep once the node is back: keep_original | keep_replacement | best_score |
  // longest_running.
  std::string reconcile = "best_score";
  bool operator==(const DisconnectStrategy&) const = default;
};

// A group's `scaling` block (Nomad's horizontal ScalingPolicy): the bounds `job scale` keeps
// the count within, and a policy kept opaque for an external autoscaler (docs/jobspec.md,
// "scaling"). Nomad's defaults: enabled; min is the group's count when unset.
struct Scaling {
  bool enabled = true;
  int min = 0;
  int max = -1;  // -1: not given (required: validation refuses the job)
  std::string type = "horizontal";  // the only type a group may have
  nlohmann::json policy;            // null or an object, never read by drover
  bool operator==(const Scaling&) const = default;
};

struct TaskGroup {
  std::string name;
  int count = 1;
  std::optional<Scaling> scaling;
  RestartPolicy restart;  // defaults depend on the job type; the parser fills them
  std::optional<UpdateStrategy> update;
  // The job's reschedule block merged with the group's over the job type's default
  // (default_reschedule_policy); nullopt when neither has one: the type's default applies.
  std::optional<ReschedulePolicy> reschedule;
  std::optional<MigrateStrategy> migrate;  // nullopt: Nomad's defaults (the struct's)
  std::optional<DisconnectStrategy> disconnect;  // nullopt: lost at once, replaced at once
  std::vector<Task> tasks;
  std::map<std::string, std::string> meta;
  std::vector<Network> networks;  // at most one (Nomad's rule)
  // Group-level services: their checks run for the alloc's health, probing the group's ports
  // (docs/networking.md); each check goes with the group's main task (its leader, else the
  // first task without a lifecycle hook).
  std::vector<Service> services;
  // Job semantics (issue 17).
  Duration shutdown_delay{0};  // before each task of the group is sent its kill signal
  // Nomad's max_run_duration (batch and sysbatch): the alloc's tasks are killed this long
  // after it was created, and it is complete ("allocation exceeded max_run_duration"). 0: none.
  Duration max_run_duration{0};
  Placement placement;
  std::vector<VolumeRequest> volumes;  // sorted by name (Nomad keys them by name)
  EphemeralDisk ephemeral_disk;
  bool operator==(const TaskGroup&) const = default;
};

// Nomad's `periodic`: the job launches a child job at each time one of its cron expressions
// (cronexpr syntax, jobspec/cron.hpp) names in `time_zone`, and never runs allocs itself.
struct Periodic {
  std::vector<std::string> crons;  // `cron` and `crons` alike; Nomad's Spec / Specs
  bool prohibit_overlap = false;
  std::string time_zone = "UTC";  // an IANA name read from the system's zoneinfo
  bool enabled = true;
  bool operator==(const Periodic&) const = default;
};

// Nomad's `parameterized`: the job is a template that `job dispatch` instantiates with a
// payload and meta; it never runs allocs itself.
struct Parameterized {
  std::string payload = "optional";  // optional | required | forbidden
  std::vector<std::string> meta_required;
  std::vector<std::string> meta_optional;
  bool operator==(const Parameterized&) const = default;
};

// The job's `ui` block (Nomad 1.8): what the web UI shows on the job's page, a description and
// links to the job's own docs or dashboards (docs/jobspec.md, "ui"). drover acts on nothing in it.
struct UiLink {
  std::string label;
  std::string url;  // http or https (the UI makes it a link)
  bool operator==(const UiLink&) const = default;
};
struct JobUi {
  std::string description;
  std::vector<UiLink> links;
  bool operator==(const JobUi&) const = default;
};

struct Job {
  std::string id;
  std::string name;  // defaults to id
  JobType type = JobType::Service;
  std::vector<std::string> datacenters;
  int priority = 50;
  std::map<std::string, std::string> meta;
  std::optional<UpdateStrategy> update;
  std::optional<ReschedulePolicy> reschedule;  // the job-level block, already in each group's
  std::vector<TaskGroup> groups;
  // Job semantics (issue 17): kept and shown; node_pool other than "default"/"all" must be
  // the agent's.
  std::string region = "global";
  std::string namespace_name = "default";
  std::string node_pool = "default";
  Placement placement;
  // Launches (jobspec/cron.hpp, runner/periodic_launcher.hpp, runner/dispatch.hpp).
  std::optional<Periodic> periodic;
  std::optional<Parameterized> parameterized;
  std::string parent_id;  // set on a periodic or dispatched child: its parent's id
  bool dispatched = false;  // a child of `job dispatch`
  std::string payload;      // a dispatched child's payload (bytes; base64 in JSON)
  // A dispatched child's IdempotencyToken: a dispatch retried with it answers this child.
  std::string dispatch_idempotency_token;
  std::optional<JobUi> ui;
  bool operator==(const Job&) const = default;
};

// A job that never runs allocs of its own: an enabled periodic job launches children, a
// parameterized one waits for dispatches (a dispatched child is neither, as in Nomad).
bool launches_children(const Job& job);

// Nomad's api TaskGroup.Canonicalize: a group's count when its file gave `count` (or not)
// and a scaling block with `min` (or not): count, else the scaling min, else 1; a scaling
// block without min takes the count. Every reader calls it once per group.
void settle_group_count(TaskGroup& g, std::optional<int> count, std::optional<int> scaling_min);

const char* to_string(JobType type);
// "service", "batch", "system", "sysbatch"; nullopt for anything else.
std::optional<JobType> job_type_from_string(std::string_view s);
// batch and sysbatch run to completion; service and system are restarted when they exit.
inline bool runs_to_completion(JobType t) { return t == JobType::Batch || t == JobType::SysBatch; }

// Canonical JSON for the state store and the API (Nomad's PascalCase shape, durations in ns).
// to_json/from_json round-trip exactly: job_from_json(to_json(job)) == job.
// job_from_json reads what to_json wrote (the store's own data): a missing key takes the
// model's default; a key of the wrong type throws nlohmann::json::exception. Untrusted
// input goes through parse_job() (parse.hpp) instead, which accepts {"Job": to_json(job)}.
nlohmann::json to_json(const Job& job);
Job job_from_json(const nlohmann::json& j);

}  // namespace drover::jobspec
