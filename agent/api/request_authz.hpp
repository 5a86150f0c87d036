// Whether a request's token may do what it asks (docs/security.md, "ACL policies"). A token of
// one of drover's built-in policies (read, submit, operate, management) is judged by its
// level, namespace-blind; a token with Nomad ACL policies by the capability the endpoint needs
// in the namespace the request touches, as Nomad's endpoints ask them. The agent's API and
// `drover server` both call authorize() before any route.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "api/acl.hpp"
#include "api/acl_policy.hpp"

namespace drover::jobspec {
struct Job;
}

namespace drover::api {

// What an endpoint asks of a token with ACL policies.
struct Need {
  enum class Kind {
    any_token,   // a valid token (its own details, the cluster's status)
    management,  // tokens, policies, the keyring
    level,       // `scope` (node, agent, operator, plugin) at `capability` (read, write, list)
    ns,          // a namespace capability (list-jobs, read-job, submit-job, ...)
    variable,    // a variable capability (read, write, list, destroy) on `var_path`
    node_pool,   // a node_pool rule's capability (read, write, delete) on the pool `scope`
                 // ("": the body names it, and its handler checks)
  };
  Kind kind = Kind::management;
  std::string scope;
  std::string capability;
  std::string var_path;
  // ns: the alloc the path names; its job's namespace is the one that counts.
  std::string alloc_id;
  // ns: the alloc is the request's ?allocID= (a job's action): its namespace counts, checked
  // as the path's would be, so an action of a same-named job elsewhere is not reached.
  bool alloc_in_query = false;
  // ns: the job in the body names the namespace: its handler checks it (authorize checks the
  // query's namespace, or that some namespace grants the capability).
  bool namespace_in_body = false;
};

// By method and path; nullopt for the endpoints that stay open (required_policy's).
std::optional<Need> required_need(std::string_view method, std::string_view path);

// The namespace an alloc id (or a unique prefix of one) belongs to; an error of kind NotFound
// or Ambiguous when it names none or several (answered as the route would: 404 or 400).
using AllocNamespaceLookup = std::function<Result<std::string>(const std::string& alloc_id)>;

struct RequestFacts {
  std::string_view method, path;
  std::string_view secret;                     // the token's secret; empty: none
  std::optional<std::string> namespace_param;  // ?namespace=, when given
  std::string alloc_param;                     // ?allocID= (a job's action), when given
  // What the refusal calls the request; empty: its method and path. A websocket's close
  // frame holds 123 bytes of reason, so exec names itself briefly.
  std::string_view label = {};
};

struct Refusal {
  int status = 403;
  std::string message;
};

// The refusal of a request, or nullopt when its token allows it. `who` names what refuses
// ("this agent"). Sets what this thread's handler reads through request_acl() below.
std::optional<Refusal> authorize(const TokenStore& tokens, const RequestFacts& request,
                                 std::string_view who, const AllocNamespaceLookup& alloc_namespace);

// The same check for grants already known (a task's workload identity's job policies): sets
// them as this thread's request ACL when they allow the request.
std::optional<Refusal> authorize_acl(std::shared_ptr<const Acl> grants, const RequestFacts& request,
                                     const AllocNamespaceLookup& alloc_namespace);
// Sets what request_acl() returns (a workload identity's job policies for its variable reads).
void set_request_acl(std::shared_ptr<const Acl> acl);

// The ACL of the request this thread handles, when its token has ACL policies; null when
// nothing limits it by namespace (ACLs off, a management token, a built-in policy).
const Acl* request_acl();
std::shared_ptr<const Acl> request_acl_shared();  // for a reply that outlives the handler
// Forgets it: called before each request is checked.
void clear_request_acl();
// What a handler asks once the data names the namespace (a submitted job's, an evaluation's):
// the 403's message when the request's token lacks `capability` there, else empty.
std::string request_namespace_refusal(std::string_view ns, std::string_view capability);
// Whether an item of namespace `ns` belongs in a list asked for every namespace
// (?namespace=*): the capability the list's endpoint needs, held there.
bool request_lists_namespace(std::string_view ns);
// Whether the token grants anything in `ns` (GET /v1/namespaces lists those).
bool request_sees_namespace(std::string_view ns);
// Whether a job's host volume may be mounted by this request's token (Nomad's host_volume
// rules: mount-readonly, mount-readwrite); the 403's message or empty.
std::string request_host_volume_refusal(std::string_view volume, bool read_only);
// Whether this request's token may submit `job` (with its namespace as the request settled
// it): submit-job there, and a mount capability on each host volume it asks for.
std::string job_submit_refusal(const jobspec::Job& job);
// A node pool's capability (read, write, delete) for this request's token: the 403's message
// or empty; and whether a list of pools shows `pool` (read).
std::string request_node_pool_refusal(std::string_view pool, std::string_view capability);
bool request_lists_node_pool(std::string_view pool);

}  // namespace drover::api
