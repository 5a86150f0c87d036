// AllocManager, AllocRunner and TaskRunner in this process, on the fake driver (a real plugin
// loaded by the real registry; fake_driver.cpp) and a real state store: no processes, no
// cgroups, so each rule of running an alloc is checked on its own.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <thread>

#include "drover/loader/registry.hpp"
#include "jobspec/parse.hpp"
#include "runner/admission.hpp"
#include "runner/alloc_manager.hpp"
#include "runner/periodic_launcher.hpp"
#include "runner/step_timings.hpp"
#include "state/state_store.hpp"

using namespace std::chrono_literals;
using drover::runner::AllocManager;
using drover::state::TaskPhase;

namespace {

std::string temp_dir() {
  char tmpl[] = "/tmp/drover-runner-XXXXXX";
  return mkdtemp(tmpl);
}

// Polls `pred` until it holds or `timeout` passes.
bool eventually(const std::function<bool()>& pred, std::chrono::milliseconds timeout = 10s) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (pred()) return true;
    std::this_thread::sleep_for(5ms);
  }
  return pred();
}

int count_lines(const std::string& path) {
  std::ifstream in(path);
  int n = 0;
  for (std::string line; std::getline(in, line);) ++n;
  return n;
}

// One node: a state store in a temp data dir, the fake driver, and an alloc manager over them.
class Node {
 public:
  // `plugin_configs`: by plugin name, as the agent's config gives them.
  explicit Node(std::string data_dir = temp_dir(),
                const nlohmann::json& plugin_configs = nlohmann::json::object())
      : data_dir_(std::move(data_dir)) {
    store_ = std::move(drover::state::StateStore::open(data_dir_).value());
    registry_.load_dir(FAKE_DRIVER_DIR, plugin_configs);
    drover::runner::RunnerContext ctx;
    ctx.store = store_.get();
    ctx.plugins = &registry_;
    ctx.data_dir = data_dir_;
    ctx.node.id = "node-1";
    ctx.node.name = "test";
    ctx.wait_slice = 20ms;
    ctx.step_timings = &timings_;
    admission_ = std::make_unique<drover::runner::JobAdmission>(registry_, nullptr);
    ctx.admission = admission_.get();
    manager_ = std::make_unique<AllocManager>(ctx);
  }
  ~Node() { manager_->shutdown(); }

  AllocManager& manager() { return *manager_; }
  const std::string& data_dir() const { return data_dir_; }
  const drover::runner::StepTimings& timings() const { return timings_; }
  drover::state::StateStore& store() { return *store_; }

  // Admits and submits a job; returns its alloc ids.
  std::vector<std::string> submit(const std::string& yaml) {
    auto admitted = admission_->admit(yaml);
    EXPECT_TRUE(admitted.admitted()) << drover::jobspec::format_problems(admitted.problems);
    if (!admitted.admitted()) return {};
    auto receipt = manager_->submit(*admitted.job);
    EXPECT_TRUE(receipt.ok()) << receipt.message();
    return receipt.ok() ? receipt->alloc_ids : std::vector<std::string>{};
  }
  drover::state::Alloc alloc(const std::string& id) { return manager_->alloc(id).value(); }
  bool status_is(const std::string& id, const std::string& status) {
    auto a = manager_->alloc(id);
    return a && a->client_status == status;
  }
  std::string starts(const std::string& id, const std::string& task) const {
    return data_dir_ + "/alloc/" + id + "/" + task + "/local/starts";
  }

 private:
  std::string data_dir_;
  drover::runner::StepTimings timings_;
  std::unique_ptr<drover::state::StateStore> store_;
  drover::plugins::PluginRegistry registry_;
  std::unique_ptr<drover::runner::JobAdmission> admission_;
  std::unique_ptr<AllocManager> manager_;
};

std::string job(const std::string& id, const std::string& type, const std::string& tasks,
                const std::string& restart = "{attempts: 0, mode: fail}") {
  return "job:\n  id: " + id + "\n  type: " + type + "\n  groups:\n    - name: g\n      restart: " +
         restart + "\n      tasks:\n" + tasks;
}

std::string task(const std::string& name, const std::string& config, const std::string& extra = "") {
  return "        - name: " + name + "\n          driver: fake\n" + extra +
         "          config: " + config + "\n";
}

}  // namespace

TEST(AllocRunner, ABatchTaskThatExitsZeroCompletesTheAlloc) {
  Node node;
  auto ids = node.submit(job("ok", "batch", task("t", "{exit_code: 0, exit_after_ms: 10}")));
  ASSERT_EQ(ids.size(), 1u);
  ASSERT_TRUE(eventually([&] { return node.status_is(ids[0], "complete"); }));
  auto t = node.alloc(ids[0]).tasks["t"];
  EXPECT_EQ(t.state, TaskPhase::Dead);
  EXPECT_FALSE(t.failed);
  EXPECT_EQ(t.restarts, 0);
  EXPECT_EQ(count_lines(node.starts(ids[0], "t")), 1);
}

TEST(AllocRunner, EveryStartStepIsTimedOncePerStart) {
  Node node;
  auto ids = node.submit(job("timed", "service", task("t", "{exit_code: 3, exit_after_ms: 5}"),
                             "{attempts: 1, delay: 10ms, interval: 1h, mode: fail}"));
  ASSERT_TRUE(eventually([&] { return node.status_is(ids[0], "failed"); }));
  std::map<std::string, std::uint64_t> counts;
  std::chrono::nanoseconds driver_start{0};
  for (const auto& s : node.timings().snapshot()) {
    counts[s.name] = s.count;
    if (s.name == "driver:start") driver_start = s.total;
  }
  EXPECT_GT(driver_start.count(), 0);
  // Two starts (the first run and one restart), the alloc's setup once.
  EXPECT_EQ(counts["driver:start"], 2u);
  EXPECT_EQ(counts["task_spec"], 2u);
  EXPECT_EQ(counts["prestart:task_dir"], 2u);
  EXPECT_EQ(counts["prestart:starting_handle"], 2u);
  EXPECT_EQ(counts["poststart:starting_handle"], 2u);
  EXPECT_EQ(counts["alloc:dir"], 1u);
  EXPECT_EQ(counts["alloc:network"], 1u);
}

TEST(AllocRunner, AFailingTaskIsRestartedByThePolicyThenFailsTheAlloc) {
  Node node;
  auto ids = node.submit(job("bad", "service", task("t", "{exit_code: 3, exit_after_ms: 5}"),
                             "{attempts: 2, delay: 10ms, interval: 1h, mode: fail}"));
  ASSERT_TRUE(eventually([&] { return node.status_is(ids[0], "failed"); }));
  auto t = node.alloc(ids[0]).tasks["t"];
  EXPECT_EQ(t.restarts, 2);
  EXPECT_TRUE(t.failed);
  EXPECT_EQ(count_lines(node.starts(ids[0], "t")), 3) << "the first run and two restarts";
  EXPECT_EQ(t.events.back().type, "Not Restarting");
}

// The health watcher skips an alloc whose modify_index it has seen, and blocking queries wait
// for it to move (state/alloc.hpp): every change a reader could act on must move it, and
// nothing else may; the node's index moves with it.
TEST(AllocRunner, EveryChangeMovesTheModifyIndexAndAQuietAllocKeepsIt) {
  Node node;
  auto ids = node.submit(job("seq", "service", task("t", "{exit_code: 0, exit_after_ms: 60000}")));
  ASSERT_TRUE(eventually([&] { return node.status_is(ids[0], "running"); }));
  auto running = node.alloc(ids[0]);
  EXPECT_GT(running.modify_index, running.create_index);
  // The last change of the alloc; the job's own (submitted) may stamp the index after it, as
  // a fast task can be running before the submit returns.
  EXPECT_LE(running.modify_index, node.manager().alloc_index().current());
  EXPECT_GE(running.modify_index + 1, node.manager().alloc_index().current()) << "the last changes";
  EXPECT_EQ(node.alloc(ids[0]).modify_index, running.modify_index) << "nothing happened in between";

  auto event_index = running.modify_index;
  node.manager().record_task_event(ids[0], "t", drover::state::TaskEvent{.type = "Test"});
  EXPECT_GT(node.alloc(ids[0]).modify_index, event_index) << "a task event";

  auto health_index = node.alloc(ids[0]).modify_index;
  ASSERT_TRUE(node.manager().set_deployment_status(ids[0], {{"Healthy", true}}));
  EXPECT_GT(node.alloc(ids[0]).modify_index, health_index) << "a health verdict";

  auto stop_index = node.alloc(ids[0]).modify_index;
  ASSERT_TRUE(node.manager().stop_alloc(ids[0]));
  EXPECT_GT(node.alloc(ids[0]).modify_index, stop_index) << "a stop";
  ASSERT_TRUE(eventually([&] { return node.status_is(ids[0], "complete"); }));
  EXPECT_EQ(node.alloc(ids[0]).tasks["t"].state, TaskPhase::Dead);

  auto before_gc = node.manager().alloc_index().current();
  ASSERT_TRUE(node.manager().gc_alloc(ids[0]));
  EXPECT_GT(node.manager().alloc_index().current(), before_gc) << "an alloc gone is a change";
}

TEST(AllocRunner, AStartTheDriverRefusesFailsTheTaskWithItsMessage) {
  Node node;
  auto ids = node.submit(job("refused", "batch", task("t", "{fail_start: \"no such image\"}")));
  ASSERT_TRUE(eventually([&] { return node.status_is(ids[0], "failed"); }));
  auto t = node.alloc(ids[0]).tasks["t"];
  bool found = false;
  for (const auto& e : t.events)
    found |= e.type == "Driver Failure" && e.message.find("no such image") != std::string::npos;
  EXPECT_TRUE(found);
}

TEST(AllocRunner, PrestartRunsOnceBeforeMainInAServiceJob) {
  Node node;
  auto ids = node.submit(job("init", "service",
                             task("init", "{exit_code: 0, exit_after_ms: 10}", "          lifecycle: {hook: prestart}\n") +
                                 task("main", "{}"),
                             "{attempts: 3, delay: 10ms, mode: fail}"));
  ASSERT_TRUE(eventually([&] { return node.alloc(ids[0]).tasks["main"].state == TaskPhase::Running; }));
  auto a = node.alloc(ids[0]);
  EXPECT_EQ(a.tasks["init"].state, TaskPhase::Dead);
  EXPECT_FALSE(a.tasks["init"].failed);
  EXPECT_LT(a.tasks["init"].finished_at_ns, a.tasks["main"].started_at_ns);
  EXPECT_EQ(count_lines(node.starts(ids[0], "init")), 1);
}

TEST(AllocRunner, StoppingARunningAllocKillsItsTaskAndCompletesIt) {
  Node node;
  auto ids = node.submit(job("svc", "service", task("t", "{}")));
  ASSERT_TRUE(eventually([&] { return node.status_is(ids[0], "running"); }));
  ASSERT_TRUE(node.manager().stop_alloc(ids[0]).ok());
  ASSERT_TRUE(eventually([&] { return node.status_is(ids[0], "complete"); }));
  auto t = node.alloc(ids[0]).tasks["t"];
  EXPECT_EQ(t.events.back().type, "Killed");
  EXPECT_FALSE(t.failed);
}

TEST(AllocRunner, ARecoveredRunningTaskIsReattachedNotStartedAgain) {
  auto dir = temp_dir();
  std::string id;
  // Both managers run in this process, so the fake driver still holds the task when the
  // second one recovers it, as a real driver's task outlives the agent.
  auto first = std::make_unique<Node>(dir);
  auto ids = first->submit(job("keep", "service", task("t", "{}")));
  ASSERT_EQ(ids.size(), 1u);
  id = ids[0];
  ASSERT_TRUE(eventually([&] { return first->status_is(id, "running"); }));
  first->manager().shutdown();  // the agent stops; the task runs on
  Node second(dir);
  second.manager().recover();
  ASSERT_TRUE(eventually([&] { return second.status_is(id, "running"); }));
  EXPECT_EQ(count_lines(second.starts(id, "t")), 1) << "started twice";
  ASSERT_TRUE(second.manager().stop_alloc(id).ok());
  EXPECT_TRUE(eventually([&] { return second.status_is(id, "complete"); }));
  first.reset();
}

// Task Setup is shown at once but written with the Starting handle, one write fewer per start
// (docs/design.md, "State"): by the driver's start the store holds both.
TEST(AllocRunner, TaskSetupIsShownAtOnceAndStoredWithTheStartingHandleBeforeTheDriverStarts) {
  Node node;
  auto ids = node.submit(job("gate", "service", task("t", "{start_gate: true}")));
  ASSERT_EQ(ids.size(), 1u);
  const std::string id = ids[0];
  auto has_setup = [](const drover::state::TaskState& s) {
    for (const auto& e : s.events)
      if (e.type == drover::state::event::kTaskSetup) return true;
    return false;
  };
  ASSERT_TRUE(eventually([&] { return has_setup(node.alloc(id).tasks["t"]); }));
  // The driver's start is under way (it waits for the gate) once the Starting handle is stored.
  ASSERT_TRUE(eventually([&] {
    auto h = node.store().handle(id, "t");  // null until the Starting handle is written
    return h.is_object() && h.value("Starting", false);
  }));
  bool stored = false;
  for (const auto& a : node.store().allocs())
    if (a.id == id) stored = has_setup(a.tasks.at("t"));
  EXPECT_TRUE(stored) << "Task Setup was not written with the Starting handle";
  std::ofstream(node.data_dir() + "/alloc/" + id + "/t/local/gate") << "go\n";
  ASSERT_TRUE(eventually([&] { return node.status_is(id, "running"); }));
  for (const auto& a : node.store().allocs())
    if (a.id == id) {
      EXPECT_TRUE(has_setup(a.tasks.at("t")));
      EXPECT_EQ(a.tasks.at("t").state, TaskPhase::Running);
    }
  EXPECT_FALSE(node.store().handle(id, "t").contains("Starting")) << "the driver's handle replaces it";
}

// A driver that resolves a Starting handle from the handle alone (RecoversStarting) gets the
// first start's Starting handle stored with the placement (docs/design.md, "Written before
// acting"): it is in the store before any hook runs, the start writes no other, and Task
// Setup is written with Started. (An agent killed right after the placement starts the task
// once: tests/hostile/faults_test.cpp, alloc_persisted, on raw_exec.)
TEST(AllocRunner, TheFirstStartsStartingHandleIsStoredWithThePlacementWhenTheDriverRecoversIt) {
  const nlohmann::json recovers = {{"fake", {{"recovers_starting", true}}}};
  const std::string dir = temp_dir();
  Node node(dir, recovers);
  auto ids = node.submit(job("gate", "service", task("t", "{start_gate: true}") +
                                   task("after", "{}", "          lifecycle: {hook: poststart}\n")));
  ASSERT_EQ(ids.size(), 1u);
  const std::string id = ids[0];
  auto stored_task = [&](Node& n, const std::string& name) {
    for (const auto& a : n.store().allocs())
      if (a.id == id) return a.tasks.at(name);
    return drover::state::TaskState{};
  };
  auto has_setup = [](const drover::state::TaskState& s) {
    for (const auto& e : s.events)
      if (e.type == drover::state::event::kTaskSetup) return true;
    return false;
  };
  // The handle is there from the placement on; a poststart task gets none (it starts later).
  auto h = node.store().handle(id, "t");
  ASSERT_TRUE(h.is_object() && h.value("Starting", false)) << h.dump();
  EXPECT_EQ(h.value("StateDir", ""), dir + "/tasks/" + id + "/t");
  EXPECT_TRUE(node.store().handle(id, "after").is_null());
  // The driver's start waits at the gate: Task Setup is shown, not yet written.
  ASSERT_TRUE(eventually([&] { return has_setup(node.alloc(id).tasks["t"]); }));
  ASSERT_TRUE(eventually([&] { return std::filesystem::exists(dir + "/alloc/" + id + "/t/local/starts"); }));
  EXPECT_FALSE(has_setup(stored_task(node, "t"))) << "the first start wrote Task Setup on its own";
  EXPECT_EQ(node.store().handle(id, "t"), h) << "the first start wrote a second Starting handle";
  std::ofstream(dir + "/alloc/" + id + "/t/local/gate") << "go\n";
  ASSERT_TRUE(eventually([&] { return node.status_is(id, "running"); }));
  EXPECT_TRUE(has_setup(stored_task(node, "t"))) << "Task Setup was not written with Started";
  EXPECT_FALSE(node.store().handle(id, "t").contains("Starting")) << "the driver's handle replaces it";
  ASSERT_TRUE(node.manager().stop_alloc(id).ok());
  ASSERT_TRUE(eventually([&] { return node.status_is(id, "complete"); }));
}

// The launcher rereads only the jobs that changed (a submit costs one job's read, not every
// job's), and still sees a periodic job submitted, and then stopped, after its first turn.
TEST(PeriodicLauncher, AJobSubmittedOrStoppedAfterTheFirstTurnIsSeenThroughJobChanged) {
  Node node;
  int64_t now = std::chrono::duration_cast<std::chrono::seconds>(
                    std::chrono::system_clock::now().time_since_epoch())
                    .count();
  drover::runner::PeriodicLauncher launcher(node.manager(), node.store(), [&] { return now; });
  node.manager().set_on_job_change(
      [&](const drover::state::JobKey& job) { launcher.job_changed(job); });
  launcher.run_once();  // the first turn: the store holds no periodic job yet
  auto children = [&] {
    int n = 0;
    for (const auto& rec : node.store().jobs()) n += rec.id.starts_with("tick/periodic-");
    return n;
  };
  node.submit("job:\n  id: tick\n  type: batch\n  periodic:\n    cron: \"*/2 * * * * * *\"\n"
              "  groups:\n    - name: g\n      restart: {attempts: 0, mode: fail}\n      tasks:\n" +
              task("t", "{exit_code: 0, exit_after_ms: 1}"));
  auto next = launcher.next_launch({"default", "tick"});
  ASSERT_TRUE(next) << "the launcher did not see the job submitted after its first turn";
  EXPECT_LE(*next, now + 2);
  now += 2;
  launcher.run_once();
  EXPECT_EQ(children(), 1);
  ASSERT_TRUE(node.manager().stop_job({"default", "tick"}).ok());
  now += 2;
  launcher.run_once();
  EXPECT_EQ(children(), 1) << "a stopped periodic job launches nothing";
  EXPECT_FALSE(launcher.next_launch({"default", "tick"}));
}
