#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>

#include "state/state_store.hpp"

using namespace drover::state;

namespace {
std::filesystem::path temp_dir() {
  char tmpl[] = "/tmp/drover-state-XXXXXX";
  return mkdtemp(tmpl);
}

// Alloc "a1" of job "j", nothing else set.
Alloc alloc_a1() {
  Alloc a;
  a.id = "a1";
  a.job_id = "j";
  a.job = std::make_shared<const nlohmann::json>(nlohmann::json{{"ID", "j"}});
  return a;
}
}  // namespace

TEST(StateStore, AllocsTaskStatesAndHandlesSurviveReopening) {
  auto dir = temp_dir();
  {
    auto store = StateStore::open(dir);
    ASSERT_TRUE(store) << store.message();
    Alloc a;
    a.id = "a1";
    a.job_id = "j";
    a.namespace_ = "prod";
    a.group = "g";
    a.job = std::make_shared<const nlohmann::json>(nlohmann::json{{"ID", "j"}});
    a.create_time_ns = 5;
    TaskState ts;
    ts.events.push_back({event::kReceived, 1, "Task received by client"});
    a.tasks["t"] = ts;
    ASSERT_TRUE((*store)->put_alloc(a));
    ts.state = drover::state::TaskPhase::Running;
    ts.restarts = 2;
    ASSERT_TRUE((*store)->put_task_state("a1", "t", ts));
    ASSERT_TRUE((*store)->put_handle("a1", "t", {{"PID", 42}}));
    a.client_status = "running";
    ASSERT_TRUE((*store)->put_alloc_status(a));
  }
  auto store = StateStore::open(dir);
  ASSERT_TRUE(store);
  auto allocs = (*store)->allocs();
  ASSERT_EQ(allocs.size(), 1u);
  EXPECT_EQ(allocs[0].client_status, "running");
  EXPECT_EQ(allocs[0].namespace_, "prod");
  EXPECT_EQ(to_json(allocs[0], false)["Namespace"], "prod");
  EXPECT_EQ((*allocs[0].job)["ID"], "j");
  EXPECT_EQ(allocs[0].tasks["t"].state, drover::state::TaskPhase::Running);
  EXPECT_EQ(allocs[0].tasks["t"].restarts, 2);
  EXPECT_EQ(allocs[0].tasks["t"].events.at(0).type, "Received");
  EXPECT_EQ((*store)->handle("a1", "t")["PID"], 42);
  ASSERT_TRUE((*store)->put_handle("a1", "t", nullptr));
  EXPECT_TRUE((*store)->handle("a1", "t").is_null());
  ASSERT_TRUE((*store)->delete_alloc("a1"));
  EXPECT_TRUE((*store)->allocs().empty());
}

// A task's start and its end are each one write with its handle (docs/design.md, "State"):
// Started stores the driver's handle over the Starting one, the end clears it, and an update
// without one leaves the stored handle as it was. Read back from a reopened store.
TEST(StateStore, ATaskUpdateStoresReplacesOrClearsItsHandleInTheSameWrite) {
  auto dir = temp_dir();
  auto reopened_handle = [&] {
    auto s = StateStore::open(dir);
    return s ? (*s)->handle("a1", "t") : nlohmann::json("cannot reopen");
  };
  TaskState ts;
  ts.events.push_back({event::kReceived, 1, "Task received by client"});
  {
    auto store = StateStore::open(dir);
    ASSERT_TRUE(store) << store.message();
    Alloc a = alloc_a1();
    a.tasks["t"] = ts;
    ASSERT_TRUE((*store)->put_alloc(a));
    ASSERT_TRUE((*store)->put_handle("a1", "t", {{"Starting", true}}));
    ts.state = TaskPhase::Running;
    const nlohmann::json started = {{"PID", 42}};
    ASSERT_TRUE((*store)->put_task_update("a1", "t", ts, &started, nullptr));
  }
  EXPECT_EQ(reopened_handle(), (nlohmann::json{{"PID", 42}}));
  {
    auto store = StateStore::open(dir);
    ts.restarts = 1;
    ASSERT_TRUE((*store)->put_task_update("a1", "t", ts, nullptr, nullptr));
  }
  EXPECT_EQ(reopened_handle(), (nlohmann::json{{"PID", 42}}));
  {
    auto store = StateStore::open(dir);
    ts.state = TaskPhase::Dead;
    const nlohmann::json cleared;
    ASSERT_TRUE((*store)->put_task_update("a1", "t", ts, &cleared, nullptr));
    ASSERT_EQ((*store)->allocs().at(0).tasks["t"].state, TaskPhase::Dead);
  }
  EXPECT_TRUE(reopened_handle().is_null());
}

TEST(StateStore, RefusesAFileThatIsNotADatabaseAndLeavesItAlone) {
  auto dir = temp_dir();
  std::ofstream(dir / "state.db") << "this is not sqlite, but it is someone's data";
  auto store = StateStore::open(dir);
  ASSERT_FALSE(store);
  EXPECT_NE(store.message().find("cannot be read"), std::string::npos) << store.message();
  std::ifstream in(dir / "state.db");
  std::string text((std::istreambuf_iterator<char>(in)), {});
  EXPECT_EQ(text, "this is not sqlite, but it is someone's data");
}

TEST(StateStore, RefusesANewerSchema) {
  auto dir = temp_dir();
  {
    auto store = StateStore::open(dir);
    ASSERT_TRUE(store);
    ASSERT_TRUE((*store)->put_meta("schema_version", "99"));
  }
  auto store = StateStore::open(dir);
  ASSERT_FALSE(store);
  EXPECT_NE(store.message().find("schema version 99"), std::string::npos) << store.message();
}

// A submit's job, its allocs and the stop of the allocs it replaces are one write: when any
// row of it fails, none is kept (a crash or a full disk never leaves a job without its allocs).
TEST(StateStore, APlacementIsWrittenWholeOrNotAtAll) {
  auto dir = temp_dir();
  auto store = StateStore::open(dir);
  ASSERT_TRUE(store) << store.message();
  Alloc old = alloc_a1();
  ASSERT_TRUE((*store)->put_alloc(old));
  old.desired_status = "stop";
  Alloc good = alloc_a1(), bad = alloc_a1();
  good.id = "a2";
  good.tasks["t"].events.push_back({event::kReceived, 1, "Task received by client"});
  bad.id = "refused";
  const JobRecord job{"j", {{"ID", "j"}, {"Version", 2}}, 5, false};
  {
    // A second connection makes the store refuse one row, as a full disk would refuse a page.
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir / "state.db").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db,
                           "CREATE TRIGGER refuse BEFORE INSERT ON allocs WHEN NEW.id = 'refused' "
                           "BEGIN SELECT RAISE(ABORT, 'refused'); END;",
                           nullptr, nullptr, nullptr),
              SQLITE_OK)
        << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  EXPECT_FALSE((*store)->put_placement(&job, {good, bad}, {old}));
  EXPECT_FALSE((*store)->job({"default", "j"})) << "the job was kept without its allocs";
  auto allocs = (*store)->allocs();
  ASSERT_EQ(allocs.size(), 1u);
  EXPECT_EQ(allocs[0].id, "a1");
  EXPECT_NE(allocs[0].desired_status, "stop") << "the old alloc was stopped for nothing";

  ASSERT_TRUE((*store)->put_placement(&job, {good}, {old}));
  ASSERT_TRUE((*store)->job({"default", "j"}));
  EXPECT_EQ((*store)->job({"default", "j"})->job["Version"], 2);
  allocs = (*store)->allocs();
  ASSERT_EQ(allocs.size(), 2u);
  for (const auto& a : allocs) {
    if (a.id == "a1") {
      EXPECT_EQ(a.desired_status, "stop");
    }
    if (a.id == "a2") {
      EXPECT_EQ(a.tasks.at("t").events.size(), 1u);
    }
  }
  store->reset();
  std::filesystem::remove_all(dir);
}

// A runner writes its whole alloc row from memory, and until its stop() runs its memory still
// says "run" after the write that stopped it (a job update's placement): its status write
// must not bring the old version back to life. Its status goes in; the stop stays.
TEST(StateStore, ARunnersStatusWriteNeverUndoesADesiredStop) {
  auto dir = temp_dir();
  auto store = StateStore::open(dir);
  ASSERT_TRUE(store) << store.message();
  Alloc runner_copy = alloc_a1();  // what the old runner holds: desired "run"
  ASSERT_TRUE((*store)->put_alloc(runner_copy));
  Alloc stopped = alloc_a1();
  stopped.desired_status = "stop";
  ASSERT_TRUE((*store)->put_placement(nullptr, {}, {stopped}));

  // The one alloc as stored: its desired status and its client status.
  using Row = std::pair<std::string, std::string>;
  auto stored = [&] {
    auto allocs = (*store)->allocs();
    EXPECT_EQ(allocs.size(), 1u);
    return allocs.empty() ? Row() : Row(allocs[0].desired_status, allocs[0].client_status);
  };
  runner_copy.client_status = "running";
  ASSERT_TRUE((*store)->put_alloc_status(runner_copy));
  EXPECT_EQ(stored(), Row("stop", "running"))
      << "a status write undid the stop, or lost the runner's status";

  runner_copy.client_status = "complete";
  runner_copy.tasks["t"].state = TaskPhase::Dead;
  ASSERT_TRUE((*store)->put_task_update("a1", "t", runner_copy.tasks["t"], nullptr, &runner_copy));
  EXPECT_EQ(stored(), Row("stop", "complete"))
      << "a task's write undid the stop, or lost the runner's status";
  store->reset();
  std::filesystem::remove_all(dir);
}

TEST(StateStore, DeletedJobIsGoneAfterReopeningAndOthersStay) {
  auto dir = temp_dir();
  {
    auto store = StateStore::open(dir);
    ASSERT_TRUE(store) << store.message();
    ASSERT_TRUE((*store)->put_job({"gone", {{"ID", "gone"}}, 1, true}));
    ASSERT_TRUE((*store)->put_job({"kept", {{"ID", "kept"}}, 2, false}));
    ASSERT_TRUE((*store)->delete_job({"default", "gone"}));
    ASSERT_TRUE((*store)->delete_job({"default", "never-there"}));  // deleting nothing is no error
  }
  auto store = StateStore::open(dir);
  ASSERT_TRUE(store);
  EXPECT_FALSE((*store)->job({"default", "gone"}));
  ASSERT_EQ((*store)->jobs().size(), 1u);
  EXPECT_EQ((*store)->jobs()[0].id, "kept");
  std::filesystem::remove_all(dir);
}

TEST(StateStore, AnAllocsPortsSurviveReopening) {
  auto dir = temp_dir();
  std::vector<AllocatedNetwork> nets(2);
  nets[0].ip = "127.0.0.1";
  nets[0].mbits = 10;
  nets[0].ports = {{"admin", 9090, 90, "127.0.0.1", "", true},
                   {"http", 24000, 0, "10.1.2.3", "public", false}};
  nets[1].task = "t";
  nets[1].ports = {{"db", 25000, 0, "127.0.0.1", "", false}};
  {
    auto store = StateStore::open(dir);
    ASSERT_TRUE(store) << store.message();
    Alloc a = alloc_a1();
    a.networks = nets;
    ASSERT_TRUE((*store)->put_alloc(a));
    // A later status write keeps them (the row is rewritten whole).
    a.client_status = "running";
    ASSERT_TRUE((*store)->put_alloc_status(a));
  }
  auto store = StateStore::open(dir);
  ASSERT_TRUE(store);
  auto allocs = (*store)->allocs();
  ASSERT_EQ(allocs.size(), 1u);
  EXPECT_EQ(allocs[0].networks, nets);
  auto j = to_json(allocs[0], false);
  EXPECT_EQ(j["AllocatedResources"]["Shared"]["Ports"][1]["HostIP"], "10.1.2.3");
  EXPECT_EQ(j["AllocatedResources"]["Tasks"]["t"]["Networks"][0]["DynamicPorts"][0]["Value"], 25000);
}

TEST(StateStore, APeriodicJobsLaunchRecordSurvivesReopeningAndGoesWithTheJob) {
  auto dir = temp_dir();
  {
    auto store = StateStore::open(dir);
    ASSERT_TRUE(store) << store.message();
    ASSERT_TRUE((*store)->put_job({"tick", {{"ID", "tick"}}, 1, false}));
    ASSERT_TRUE((*store)->put_job({"tock", {{"ID", "tock"}}, 1, false}));
    ASSERT_TRUE((*store)->put_periodic_launch({"default", "tick"}, R"({"Launch":100})"));
    ASSERT_TRUE((*store)->put_periodic_launch({"default", "tock"}, R"({"Launch":200})"));
  }
  auto store = StateStore::open(dir);
  ASSERT_TRUE(store);
  EXPECT_EQ((*store)->periodic_launch({"default", "tick"}).value_or(""), R"({"Launch":100})");
  ASSERT_TRUE((*store)->delete_job({"default", "tick"}));
  EXPECT_FALSE((*store)->periodic_launch({"default", "tick"}))
      << "a job submitted again under its id starts afresh";
  EXPECT_EQ((*store)->periodic_launch({"default", "tock"}).value_or(""), R"({"Launch":200})");
  std::filesystem::remove_all(dir);
}

// A job's submitted source and scaling events go with it, whether a purge or the job GC
// removes it (docs/jobspec.md, "scaling"); another job's stay.
TEST(StateStore, AJobsSubmissionAndScalingEventsGoWithTheJob) {
  auto dir = temp_dir();
  auto store = StateStore::open(dir);
  ASSERT_TRUE(store) << store.message();
  auto& s = **store;
  for (const char* id : {"web", "db"}) {
    const JobKey key{"default", id};
    ASSERT_TRUE(s.put_job({id, {{"ID", id}}, 1, false}));
    ASSERT_TRUE(s.put_meta(StateStore::job_meta_key(StateStore::kJobSubmission, key), "{}"));
    ASSERT_TRUE(s.put_meta(StateStore::job_meta_key(StateStore::kJobScalingEvents, key), "{}"));
  }
  ASSERT_TRUE(s.delete_job({"default", "web"}));
  EXPECT_FALSE(s.meta("job_submission/default/web"));
  EXPECT_FALSE(s.meta("job_scaling_events/default/web"));
  EXPECT_TRUE(s.meta("job_submission/default/db"));
  EXPECT_TRUE(s.meta("job_scaling_events/default/db"));
  std::filesystem::remove_all(dir);
}

// Nomad's (Namespace, ID): one id in two namespaces is two jobs, each with its own record,
// stop flag and launch record; removing one leaves the other.
TEST(StateStore, OneJobIdInTwoNamespacesIsTwoJobs) {
  auto dir = temp_dir();
  {
    auto store = StateStore::open(dir);
    ASSERT_TRUE(store) << store.message();
    ASSERT_TRUE((*store)->put_job({"web", {{"ID", "web"}, {"Namespace", "default"}}, 1, false}));
    ASSERT_TRUE((*store)->put_job({"web", {{"ID", "web"}, {"Namespace", "prod"}}, 2, true, "prod"}));
    ASSERT_TRUE((*store)->put_periodic_launch({"prod", "web"}, R"({"Launch":7})"));
  }
  auto store = StateStore::open(dir);
  ASSERT_TRUE(store);
  auto& s = **store;
  ASSERT_EQ(s.jobs().size(), 2u);
  EXPECT_EQ(s.jobs()[0].ns, "default");
  EXPECT_EQ(s.jobs()[1].ns, "prod");
  EXPECT_FALSE(s.job({"default", "web"})->stopped);
  EXPECT_TRUE(s.job({"prod", "web"})->stopped);
  EXPECT_EQ(s.job({"prod", "web"})->job["Namespace"], "prod");
  EXPECT_FALSE(s.job({"staging", "web"}));
  EXPECT_FALSE(s.periodic_launch({"default", "web"}));
  ASSERT_TRUE(s.delete_job({"prod", "web"}));
  EXPECT_FALSE(s.job({"prod", "web"}));
  EXPECT_FALSE(s.periodic_launch({"prod", "web"}));
  EXPECT_TRUE(s.job({"default", "web"}));
  std::filesystem::remove_all(dir);
}
