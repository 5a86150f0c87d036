// Workload identities: the per-task token a task reaches the API with (Nomad's default
// workload identity; `identity { env, file }` puts it in NOMAD_TOKEN and secrets/nomad_token).
// A token is a JWT (HS256) whose key is derived from the variables keyring (the `kid` header
// names the root key), so it outlives an agent restart and every node of a cluster checks it
// alike. It grants only reading the job's own variables (workload_may_read); the API refuses it
// everywhere else, and once its alloc has ended (docs/variables.md, "Workload access").
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "vars/keyring.hpp"

namespace drover::vars {

struct WorkloadClaims {
  std::string ns = "default";
  std::string job_id;  // a dispatched or periodic child's parent job, as in Nomad
  std::string group;
  std::string task;
  std::string alloc_id;
};

class WorkloadIdentity {
 public:
  explicit WorkloadIdentity(std::shared_ptr<Keyring> keyring) : keyring_(std::move(keyring)) {}
  std::string sign(const WorkloadClaims& claims) const;
  // The claims of a token this keyring signed; nullopt for anything else.
  std::optional<WorkloadClaims> verify(std::string_view token) const;
  // Whether `token` has a JWT's shape (an operator's ACL secret is a UUID).
  static bool looks_like(std::string_view token);

 private:
  std::shared_ptr<Keyring> keyring_;
};

// Nomad's implicit workload policy: `path`'s segments are a prefix of
// nomad/jobs/<job>/<group>/<task> ("nomad/jobs", "nomad/jobs/web", "nomad/jobs/web/g", ...).
bool workload_may_read(const WorkloadClaims& claims, std::string_view path);

}  // namespace drover::vars
