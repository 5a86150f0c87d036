// The template hook (runner/hooks/hooks.hpp; docs/templates.md): renders a task's templates
// before each start and re-renders them while it runs, acting on change_mode.
#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <random>
#include <set>
#include <thread>

#include "drover/common/relative_path.hpp"
#include "proc/spawn.hpp"
#include "runner/alloc_runner.hpp"
#include "runner/hooks/hook_thread.hpp"
#include "runner/hooks/hooks.hpp"
#include "runner/hooks/template_data.hpp"
#include "runner/hooks/template_files.hpp"
#include "runner/hooks/template_variables.hpp"
#include "runner/restart_tracker.hpp"
#include "template/template.hpp"

namespace drover::runner {

namespace {

constexpr const char* kTemplateRendered = "Template Rendered";
constexpr const char* kTemplateFailed = "Template Failed";
// How often a running task's templates that read data are rendered again to see whether it
// changed (a template's wait.min, when longer, is used instead).
constexpr auto kPollInterval = std::chrono::seconds(1);

// A file beneath the task dir ("local/x" from it) or the alloc's shared dir ("alloc/x" from
// the alloc dir), so that messages name it as the job does.
struct Placed {
  std::filesystem::path root;
  std::string rel;
};

struct Render {
  Placed dest;
  tmpl::Rendered out;
};

// Where a template's destination or source is: the dir variables read from the task dir, the
// rest of the env interpolated, then Nomad's rule (beneath the task's dir or the shared alloc/
// dir; common/relative_path.hpp).
Result<Placed> place(const AllocDir& dir, const std::string& task, const std::string& written,
                     const TaskEnv& paths, const std::map<std::string, std::string>& env) {
  auto rel = beneath_task_or_shared(
      task, paths.interpolate(task_dir_variables_as_relative(written), env));
  if (!rel) return rel.error();
  if (*rel == task || *rel == "alloc")
    return make_error("\"" + written + "\" names a dir, not a file", Errc::Invalid);
  if (rel->starts_with(task + "/")) return Placed{dir.task_dir(task), rel->substr(task.size() + 1)};
  return Placed{dir.root, *rel};
}

// `env`: the task's start env (the `env` function reads it, with what env templates added);
// `paths`: the interpolation of destination and source.
Result<Render> render_template(const jobspec::Template& t, const AllocDir& dir,
                               const std::string& task,
                               const std::map<std::string, std::string>& env,
                               const TaskEnv& paths, TaskTemplateData& data) {
  Render r;
  auto dest = place(dir, task, t.destination, paths, env);
  if (!dest) return make_error("destination " + dest.message(), Errc::Invalid);
  r.dest = *dest;
  std::string text = t.data;
  if (!t.source.empty()) {
    auto src = place(dir, task, t.source, paths, env);
    if (!src) return make_error("source " + src.message(), Errc::Invalid);
    auto read = read_beneath(src->root, src->rel);
    if (!read) return make_error("source: " + read.message(), read.code());
    text = std::move(*read);
  }
  tmpl::Options o;
  o.left_delim = t.left_delimiter;
  o.right_delim = t.right_delimiter;
  o.error_on_missing_key = t.error_on_missing_key;
  auto parsed = tmpl::Template::parse(t.destination, text, o);
  if (!parsed) return parsed.error();
  tmpl::RenderInput in;
  in.env = env;
  in.source = &data;
  auto out = tmpl::render(*parsed, in);
  if (!out) return out.error();
  r.out = std::move(*out);
  return r;
}

unsigned perms_of(const jobspec::Template& t) {
  return static_cast<unsigned>(std::strtoul(t.perms.c_str(), nullptr, 8)) & 07777;
}

// change_mode script for a driver that cannot run commands inside its task (every built-in
// driver can: this is for a plugin without exec): the command runs as a child of the agent in
// the task dir with the task's env, killed at its timeout. The exit code, or -1 when it could not run or timed out.
int run_script(const jobspec::ChangeScript& s, const std::filesystem::path& task_dir,
               const std::map<std::string, std::string>& env, std::string& why) {
  proc::SpawnRequest req;
  req.exe = s.command;
  req.search_path = true;
  req.argv.push_back(s.command);
  req.argv.insert(req.argv.end(), s.args.begin(), s.args.end());
  for (const auto& [k, v] : env) req.env.push_back(k + "=" + v);
  req.dir = task_dir.string();
  req.own_process_group = true;  // its timeout kills all it started
  req.out = STDOUT_FILENO;       // what it says goes where the agent's own output goes
  req.err = STDERR_FILENO;
  auto spawned = proc::spawn(req);
  if (!spawned) {
    why = spawned.message();
    return -1;
  }
  const pid_t pid = *spawned;
  const auto deadline = std::chrono::steady_clock::now() + s.timeout;
  int status = 0;
  for (;;) {
    pid_t w = ::waitpid(pid, &status, WNOHANG);
    if (w == pid) break;
    if (w < 0 && errno != EINTR) {
      why = std::string("waitpid: ") + std::strerror(errno);
      return -1;
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      why = "timed out after " + format_duration(s.timeout);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (WIFEXITED(status)) {
    if (WEXITSTATUS(status) == 127) why = "could not run " + s.command;
    return WEXITSTATUS(status);
  }
  why = "killed by signal " + std::to_string(WTERMSIG(status));
  return -1;
}

}  // namespace

// The agent's variable store as templates read it; null when the agent has none.
std::unique_ptr<TemplateVariables> variables_of(AllocRunner& alloc) {
  if (!alloc.ctx().variables) return nullptr;
  return std::make_unique<StoreTemplateVariables>(*alloc.ctx().variables,
                                                  alloc.job().namespace_name);
}

struct TemplateHook::State {
  struct Entry {
    std::string last;  // what was written last
    std::set<std::string> deps;
    std::string last_error;  // said once, not at every poll
  };
  std::vector<Entry> entries;
  HookThread watcher;
};

TemplateHook::TemplateHook() : state_(std::make_unique<State>()) {}
TemplateHook::~TemplateHook() { state_->watcher.stop(); }

Status TemplateHook::prestart(TaskHookContext& c) {
  state_->watcher.stop();
  const auto task_dir = c.alloc.dir().task_dir(c.task.name);
  auto variables = variables_of(c.alloc);
  TaskTemplateData data(task_dir, c.alloc.job().id, c.alloc.group().name, c.task.name,
                        variables.get(), c.alloc.ctx().catalog);
  const auto env = c.spec.env;
  const TaskEnv paths = c.alloc.task_env(c.task);
  state_->entries.assign(c.task.templates.size(), {});
  for (std::size_t i = 0; i < c.task.templates.size(); ++i) {
    const auto& t = c.task.templates[i];
    auto r = render_template(t, c.alloc.dir(), c.task.name, env, paths, data);
    if (!r) return make_error("Template failed: " + t.destination + ": " + r.message(), r.code());
    if (auto st = write_beneath_atomically(r->dest.root, r->dest.rel, r->out.text, perms_of(t),
                                           t.uid, t.gid);
        !st)
      return make_error("Template failed: " + st.message(), st.code());
    if (t.env) {
      auto vars = parse_env_lines(r->out.text);
      if (!vars) return make_error("Template failed: " + t.destination + ": " + vars.message());
      for (auto& [k, v] : *vars) c.spec.env[k] = v;
    }
    state_->entries[i].last = std::move(r->out.text);
    state_->entries[i].deps = std::move(r->out.dependencies);
  }
  state::TaskEvent e{kTemplateRendered, 0,
                     "Rendered " + std::to_string(c.task.templates.size()) + " template" +
                         (c.task.templates.size() == 1 ? "" : "s")};
  c.record(std::move(e));
  return {};
}

void TemplateHook::poststart(TaskHookContext& c, const nlohmann::json&) {
  start_watcher(c, c.spec.env);
}

void TemplateHook::recovered(TaskHookContext& c, const nlohmann::json&) {
  // A task an earlier agent started: what it reads is what that agent wrote. Each file on disk
  // counts as the last render, so what changed while no agent watched is written and acted on
  // (change_mode) at the first poll, and nothing is done for what did not.
  auto env = c.alloc.task_spec(c.task).env;
  const auto task_dir = c.alloc.dir().task_dir(c.task.name);
  auto variables = variables_of(c.alloc);
  TaskTemplateData data(task_dir, c.alloc.job().id, c.alloc.group().name, c.task.name,
                        variables.get(), c.alloc.ctx().catalog);
  const TaskEnv paths = c.alloc.task_env(c.task);
  state_->entries.assign(c.task.templates.size(), {});
  for (std::size_t i = 0; i < c.task.templates.size(); ++i) {
    const auto& t = c.task.templates[i];
    auto& e = state_->entries[i];
    auto r = render_template(t, c.alloc.dir(), c.task.name, env, paths, data);
    if (!r) {
      // What it reads is unknown until it renders: watched, so that the poll says why.
      e.deps = {""};
      continue;
    }
    auto on_disk = read_beneath(r->dest.root, r->dest.rel);
    e.last = on_disk ? std::move(*on_disk) : std::string();
    e.deps = std::move(r->out.dependencies);
    // An env template's values are in the task's env as the file had them at its start.
    if (t.env)
      if (auto vars = parse_env_lines(e.last))
        for (auto& [k, v] : *vars) env[k] = v;
  }
  start_watcher(c, std::move(env));
}

void TemplateHook::start_watcher(TaskHookContext& c, std::map<std::string, std::string> env) {
  bool watch = false;
  auto interval = std::chrono::nanoseconds(kPollInterval);
  for (std::size_t i = 0; i < c.task.templates.size(); ++i) {
    const auto& t = c.task.templates[i];
    if (t.once || state_->entries[i].deps.empty()) continue;
    watch = true;
    if (t.wait && t.wait->min > interval) interval = t.wait->min;
  }
  if (!watch) return;
  AllocRunner* alloc = &c.alloc;
  const jobspec::Task* task = &c.task;
  auto record = c.record;
  State* st = state_.get();
  st->watcher.start([=] {
    const auto task_dir = alloc->dir().task_dir(task->name);
    auto variables = variables_of(*alloc);
    const TaskEnv paths = alloc->task_env(*task);
    TaskTemplateData data(task_dir, alloc->job().id, alloc->group().name, task->name,
                          variables.get(), alloc->ctx().catalog);
    std::mt19937_64 rng{std::random_device{}()};
    while (st->watcher.sleep_for(interval)) {
      bool restart = false;
      std::set<std::string> signals;
      std::vector<const jobspec::ChangeScript*> scripts;
      std::chrono::nanoseconds splay{0};
      for (std::size_t i = 0; i < task->templates.size(); ++i) {
        const auto& t = task->templates[i];
        auto& e = st->entries[i];
        if (t.once || e.deps.empty()) continue;
        auto r = render_template(t, alloc->dir(), task->name, env, paths, data);
        if (!r) {
          // The file keeps its last render; the failure is said once until it changes.
          if (r.message() != e.last_error) {
            e.last_error = r.message();
            spdlog::warn("alloc {} task {}: template {}: {}", alloc->id(), task->name,
                         t.destination, r.message());
            record({kTemplateFailed, 0, "Template failed: " + t.destination + ": " + r.message()});
          }
          continue;
        }
        e.last_error.clear();
        e.deps = r->out.dependencies;
        if (r->out.text == e.last) continue;
        if (auto w =
                write_beneath_atomically(r->dest.root, r->dest.rel, r->out.text, perms_of(t), t.uid, t.gid);
            !w) {
          record({kTemplateFailed, 0, "Template failed: " + w.message()});
          continue;
        }
        e.last = std::move(r->out.text);
        // An env template's values reach the task only through a new start.
        const std::string mode = t.env && t.change_mode != "noop" ? "restart" : t.change_mode;
        if (mode == "restart") restart = true;
        if (mode == "signal") signals.insert(t.change_signal);
        if (mode == "script" && t.change_script) scripts.push_back(&*t.change_script);
        if (mode != "noop") splay = std::max(splay, t.splay);
      }
      if (!restart && signals.empty() && scripts.empty()) continue;
      // Nomad's splay: a random wait up to it, so that many tasks do not act at once.
      if (splay.count() > 0 &&
          !st->watcher.sleep_for(std::chrono::nanoseconds(rng() % static_cast<uint64_t>(splay.count()))))
        return;
      if (restart) {
        if (auto s =
                alloc->restart_task(task->name, "Template with change_mode restart re-rendered");
            !s)
          spdlog::warn("alloc {} task {}: template restart: {}", alloc->id(), task->name,
                       s.message());
        // The restart ends this watcher (exited()); a new one starts with the new run.
        return;
      }
      for (const auto& sig : signals)
        if (auto s = alloc->signal_task(task->name, sig); !s)
          spdlog::warn("alloc {} task {}: template signal: {}", alloc->id(), task->name,
                       s.message());
      for (const auto* script : scripts) {
        std::vector<std::string> argv{script->command};
        argv.insert(argv.end(), script->args.begin(), script->args.end());
        std::string why;
        int code = -1;
        auto r = alloc->exec_task(
            task->name, argv,
            std::chrono::duration_cast<std::chrono::milliseconds>(script->timeout));
        if (r) {
          code = r->value("ExitCode", -1);
          if (code != 0) why = "exit code " + std::to_string(code);
        } else if (r.code() == Errc::Unsupported) {
          code = run_script(*script, task_dir, env, why);
          if (code > 0 && why.empty()) why = "exit code " + std::to_string(code);
        } else {
          why = r.message();
        }
        if (code == 0) continue;
        state::TaskEvent ev{kTemplateFailed, 0,
                            "Template change_script " + script->command + " failed: " + why};
        record(std::move(ev));
        if (script->fail_on_error) {
          // Nomad kills the task; here through its kill signal's stronger sibling, and the
          // task's restart policy decides what follows.
          if (auto s = alloc->signal_task(task->name, "SIGKILL"); !s)
            spdlog::warn("alloc {} task {}: {}", alloc->id(), task->name, s.message());
          return;
        }
      }
    }
  });
}

void TemplateHook::exited(TaskHookContext&) { state_->watcher.stop(); }

}  // namespace drover::runner
