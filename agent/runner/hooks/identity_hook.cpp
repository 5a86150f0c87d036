// The identity hook (runner/hooks/hooks.hpp; docs/variables.md, "Workload identities"): each
// of the task's identities signed before each start, put in its env var and/or file, and,
// for those with a ttl, signed anew while the task runs, two thirds into each token's life, as
// the identity's change_mode says (noop, signal, restart).
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <set>

#include "drover/common/relative_path.hpp"
#include "fs/beneath.hpp"
#include "jobspec/identity.hpp"
#include "runner/alloc_runner.hpp"
#include "runner/hooks/hook_thread.hpp"
#include "runner/hooks/hooks.hpp"
#include "runner/hooks/template_files.hpp"
#include "vars/jwt.hpp"
#include "vars/workload_identity.hpp"

namespace drover::runner {
namespace {

using Clock = HookThread::Clock;

// The task's identities: the default one first, then the named ones as written.
std::vector<const jobspec::Identity*> identities_of(const jobspec::Task& t) {
  std::vector<const jobspec::Identity*> out;
  if (t.identity) out.push_back(&*t.identity);
  for (const auto& id : t.identities) out.push_back(&id);
  return out;
}

std::chrono::seconds ttl_of(const jobspec::Identity& id) {
  return std::chrono::ceil<std::chrono::seconds>(id.ttl);
}

// When a token signed at `signed_at` is to be signed anew: two thirds into its ttl.
Clock::time_point renewal_due(const jobspec::Identity& id, Clock::time_point signed_at) {
  if (id.ttl.count() <= 0) return Clock::time_point::max();
  return signed_at + std::chrono::duration_cast<Clock::duration>(id.ttl * 2 / 3);
}

// Where an identity's token file is (rel "" when it has none) and who owns it.
struct TokenFile {
  std::filesystem::path root;
  std::string rel;
  int uid = -1, gid = -1;
};

vars::WorkloadClaims claims_of(AllocRunner& alloc, const jobspec::Task& task) {
  const auto& job = alloc.job();
  vars::WorkloadClaims claims;
  // A dispatched or periodic child reads its parent's variables, as in Nomad.
  claims.job_id = job.parent_id.empty() ? job.id : job.parent_id;
  claims.ns = job.namespace_name;  // it reads its own namespace's variables
  claims.group = alloc.group().name;
  claims.task = task.name;
  claims.alloc_id = alloc.id();
  return claims;
}

Result<vars::SignedIdentity> sign(AllocRunner& alloc, const vars::WorkloadClaims& claims,
                                  const jobspec::Identity& id) {
  vars::IdentityRequest r;
  r.name = id.name.empty() ? "default" : id.name;
  r.audience = id.audience;
  r.ttl = ttl_of(id);
  const jobspec::ClaimVariables vars{claims.job_id, claims.ns,  alloc.job().region,
                                     alloc.job().node_pool, claims.group, claims.task};
  for (const auto& [name, value] : id.extra_claims) {
    auto v = jobspec::interpolate_claim(value, vars);
    if (!v) return make_error("identity " + r.name + ": extra_claims." + name + ": " + v.message());
    r.extra_claims[name] = std::move(*v);
  }
  return alloc.ctx().identity->sign(claims, r);
}

// Where identity `id`'s file goes and who owns it: secrets/nomad_token (or nomad_<name>.jwt),
// or Nomad's filepath from the task dir, beneath it or the alloc's shared dir
// (common/relative_path.hpp), as the validator checked it; readable by the task's user alone,
// as its secrets/ is (task_dir_hook.cpp), whose owner owns the file.
Status place_file(AllocRunner& alloc, const jobspec::Task& task, const jobspec::Identity& id,
                  TokenFile& out) {
  const auto secrets = alloc.dir().secrets_dir(task.name);
  auto dir = fs::open_beneath(secrets, ".", O_PATH | O_DIRECTORY);
  if (!dir) return make_error("identity: " + dir.message());
  struct stat owner {};
  if (::fstat(dir->get(), &owner) != 0)
    return make_error(std::string("identity: secrets/: ") + std::strerror(errno));
  out.uid = static_cast<int>(owner.st_uid);
  out.gid = static_cast<int>(owner.st_gid);
  out.root = alloc.dir().task_dir(task.name);
  out.rel = jobspec::identity_default_file(id);
  if (const auto& written = id.filepath; !written.empty()) {
    auto placed = beneath_task_or_shared(task.name, task_dir_variables_as_relative(written));
    if (!placed) return make_error("identity: filepath " + placed.message(), Errc::Invalid);
    auto [top, rest] = top_dir_and_rest(*placed);
    if (rest == ".")
      return make_error("identity: filepath \"" + written + "\" names a dir", Errc::Invalid);
    out.root = alloc.dir().root / top;
    out.rel = std::move(rest);
  }
  return {};
}

Status write_token(const TokenFile& p, const std::string& token) {
  // The task may have left anything there in an earlier run: no link followed.
  if (auto st = write_beneath_atomically(p.root, p.rel, token, 0400, p.uid, p.gid); !st)
    return make_error("identity: " + st.message(), st.code());
  return {};
}

}  // namespace

struct IdentityHook::State {
  // One identity of the task, where its token goes and when it is due anew.
  struct Issued {
    const jobspec::Identity* id = nullptr;
    TokenFile file;
    Clock::time_point due = Clock::time_point::max();
  };
  std::vector<Issued> issued;
  vars::WorkloadClaims claims;
  HookThread renewer;
};

IdentityHook::IdentityHook() : state_(std::make_unique<State>()) {}
IdentityHook::~IdentityHook() { state_->renewer.stop(); }

Status IdentityHook::prestart(TaskHookContext& c) {
  state_->renewer.stop();
  state_->claims = claims_of(c.alloc, c.task);
  state_->issued.clear();
  for (const auto* id : identities_of(c.task)) {
    State::Issued is{id};
    auto signed_id = sign(c.alloc, state_->claims, *id);
    if (!signed_id) return signed_id.error();
    if (id->env) c.spec.env[jobspec::identity_env_var(*id)] = signed_id->token;
    if (id->file) {
      if (auto st = place_file(c.alloc, c.task, *id, is.file); !st) return st;
      if (auto st = write_token(is.file, signed_id->token); !st) return st;
    }
    is.due = renewal_due(*id, Clock::now());
    state_->issued.push_back(std::move(is));
  }
  return {};
}

void IdentityHook::poststart(TaskHookContext& c, const nlohmann::json&) { start_renewer(c); }

void IdentityHook::recovered(TaskHookContext& c, const nlohmann::json&) {
  // A task this agent did not start: its tokens are where the last agent put them. Each is
  // due anew two thirds into the life of the token in its file, or, for an env var alone,
  // of one signed at the task's start.
  state_->claims = claims_of(c.alloc, c.task);
  state_->issued.clear();
  const auto snap = c.alloc.snapshot();
  const auto task_state = snap.tasks.find(c.task.name);
  const int64_t now_s = state::now_ns() / 1000000000;
  for (const auto* id : identities_of(c.task)) {
    State::Issued is{id};
    if (id->file && !place_file(c.alloc, c.task, *id, is.file)) is.file.rel.clear();
    int64_t signed_s = task_state == snap.tasks.end() ? now_s : task_state->second.started_at_ns / 1000000000;
    if (!is.file.rel.empty())
      if (auto text = read_beneath(is.file.root, is.file.rel))
        if (auto jwt = vars::decode_jwt(*text); jwt && jwt->claims.value("iat", int64_t{0}) > 0)
          signed_s = jwt->claims["iat"].get<int64_t>();
    is.due = renewal_due(*id, Clock::now() - std::chrono::seconds(now_s - signed_s));
    state_->issued.push_back(std::move(is));
  }
  start_renewer(c);
}

void IdentityHook::start_renewer(TaskHookContext& c) {
  bool any = false;
  for (const auto& is : state_->issued) any = any || is.due != Clock::time_point::max();
  if (!any) return;
  AllocRunner* alloc = &c.alloc;
  const std::string task = c.task.name;
  auto record = c.record;
  State* st = state_.get();
  st->renewer.start([alloc, task, record, st] {
    for (;;) {
      auto next = Clock::time_point::max();
      for (const auto& is : st->issued) next = std::min(next, is.due);
      if (!st->renewer.sleep_until(next)) return;
      bool restart = false;
      std::set<std::string> signals;
      const auto now = Clock::now();
      for (auto& is : st->issued) {
        if (is.due > now) continue;
        const std::string name = is.id->name.empty() ? "default" : is.id->name;
        auto signed_id = sign(*alloc, st->claims, *is.id);
        Status wrote = signed_id ? (is.file.rel.empty() ? Status{} : write_token(is.file, signed_id->token))
                                 : Status(signed_id.error());
        if (!wrote) {
          // Tried again shortly; the old token holds until it expires.
          spdlog::warn("alloc {} task {}: identity {} not renewed: {}", alloc->id(), task, name,
                       wrote.message());
          record({"Identity Renewal Failed", 0, "identity " + name + ": " + wrote.message()});
          is.due = now + std::chrono::seconds(5);
          continue;
        }
        is.due = renewal_due(*is.id, now);
        if (is.id->change_mode == "restart") restart = true;
        if (is.id->change_mode == "signal") signals.insert(is.id->change_signal);
      }
      if (restart) {
        if (auto s = alloc->restart_task(task, "Workload identity renewed"); !s)
          spdlog::warn("alloc {} task {}: identity restart: {}", alloc->id(), task, s.message());
        return;  // the restart ends this renewer (exited()); the new run signs anew
      }
      for (const auto& sig : signals)
        if (auto s = alloc->signal_task(task, sig); !s)
          spdlog::warn("alloc {} task {}: identity signal: {}", alloc->id(), task, s.message());
    }
  });
}

void IdentityHook::exited(TaskHookContext&) { state_->renewer.stop(); }

}  // namespace drover::runner
