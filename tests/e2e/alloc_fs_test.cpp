// Nomad's alloc filesystem API (/v1/client/fs/{ls,stat,cat,readat,stream}) and `drover alloc fs`
// through the real agent: what a task wrote is listed and read; what would reach past the
// alloc dir (a climbing path, a symlink), a task's secrets and a FIFO a task planted are
// refused, each with its reason, and the agent keeps answering.
#include <gtest/gtest.h>

#include <httplib.h>

#include <chrono>
#include <mutex>
#include <string>
#include <thread>

#include "drover/common/encoding.hpp"

#include "agent_process.hpp"

using drover::testing::AgentProcess;
using nlohmann::json;

namespace {

// A raw_exec service task that makes its files, then a marker, then sleeps.
std::vector<std::string> run(AgentProcess& agent, const std::string& id, const std::string& script) {
  auto ids = agent.submit("job:\n  id: " + id + "\n  type: service\n  groups:\n    - name: g\n"
                          "      tasks:\n        - name: t\n          driver: raw_exec\n"
                          "          kill_timeout: 1s\n          config:\n            command: /bin/sh\n"
                          "            args: [\"-c\", \"" + script + "; touch local/ready; exec sleep 1000\"]\n");
  EXPECT_EQ(ids.size(), 1u);
  if (ids.size() != 1) return ids;
  EXPECT_TRUE(drover::testing::eventually(
      [&] { return agent.get("/v1/client/fs/stat/" + ids[0] + "?path=/t/local/ready").status == 200; },
      std::chrono::seconds(20)));
  return ids;
}

std::string names(const json& list) {
  std::string out;
  for (const auto& e : list) out += e.value("Name", "?") + (e.value("IsDir", false) ? "/ " : " ");
  return out;
}

}  // namespace

TEST(AllocFs, ListsStatsAndReadsWhatATaskWrote) {
  auto agent = AgentProcess::start();
  auto ids = run(*agent, "fsread", "printf 'hello\\\\n' > local/hello.txt; mkdir local/sub; printf '\\\\001\\\\000x' > local/bin");
  ASSERT_EQ(ids.size(), 1u);
  const std::string id = ids[0];

  auto root = agent->get("/v1/client/fs/ls/" + id + "?path=/");
  ASSERT_EQ(root.status, 200) << root.body;
  EXPECT_NE(names(root.json()).find("alloc/ "), std::string::npos) << root.body;
  EXPECT_NE(names(root.json()).find("t/ "), std::string::npos) << root.body;

  auto local = agent->get("/v1/client/fs/ls/" + id.substr(0, 8) + "?path=t/local");
  ASSERT_EQ(local.status, 200) << local.body;
  EXPECT_EQ(names(local.json()), "bin hello.txt ready sub/ ") << local.body;  // sorted by name
  for (const auto& e : local.json()) {
    if (e["Name"] == "hello.txt") {
      EXPECT_EQ(e["Size"], 6);
      EXPECT_EQ(e["FileMode"].get<std::string>().substr(0, 1), "-");
      EXPECT_EQ(e["ModTime"].get<std::string>().back(), 'Z');
    }
    if (e["Name"] == "sub") {
      EXPECT_EQ(e["FileMode"].get<std::string>().substr(0, 1), "d");
    }
  }

  auto st = agent->get("/v1/client/fs/stat/" + id + "?path=/t/local/hello.txt").json();
  EXPECT_EQ(st["Name"], "hello.txt");
  EXPECT_EQ(st["IsDir"], false);
  EXPECT_EQ(st["Size"], 6);
  EXPECT_EQ(st["ContentType"], "text/plain; charset=utf-8");
  EXPECT_EQ(agent->get("/v1/client/fs/stat/" + id + "?path=/t/local/bin").json()["ContentType"],
            "application/octet-stream");

  auto cat = agent->get("/v1/client/fs/cat/" + id + "?path=/t/local/hello.txt");
  EXPECT_EQ(cat.status, 200);
  EXPECT_EQ(cat.body, "hello\n");
  EXPECT_EQ(agent->get("/v1/client/fs/readat/" + id + "?path=/t/local/hello.txt&offset=1&limit=3").body, "ell");
  EXPECT_EQ(agent->get("/v1/client/fs/readat/" + id + "?path=/t/local/hello.txt&offset=4").body, "o\n");
  auto past = agent->get("/v1/client/fs/readat/" + id + "?path=/t/local/hello.txt&offset=99&limit=5");
  EXPECT_EQ(past.status, 200);
  EXPECT_EQ(past.body, "");
  auto bad = agent->get("/v1/client/fs/readat/" + id + "?path=/t/local/hello.txt&offset=-1");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("offset"), std::string::npos) << bad.body;

  // The CLI, as `nomad alloc fs`: a dir is listed, a file printed, -stat shows the path.
  auto dir = agent->cli({"alloc", "fs", id.substr(0, 8), "t/local"});
  EXPECT_EQ(dir.exit_code, 0) << dir.err;
  EXPECT_NE(dir.out.find("Mode"), std::string::npos) << dir.out;
  EXPECT_NE(dir.out.find("6 B"), std::string::npos) << dir.out;
  EXPECT_NE(dir.out.find("sub/"), std::string::npos) << dir.out;
  auto file = agent->cli({"alloc", "fs", id, "t/local/hello.txt"});
  EXPECT_EQ(file.exit_code, 0) << file.err;
  EXPECT_EQ(file.out, "hello\n");
  auto stat = agent->cli({"alloc", "fs", "-stat", "-H", id, "t/local/hello.txt"});
  EXPECT_EQ(stat.exit_code, 0) << stat.err;
  EXPECT_NE(stat.out.find("text/plain"), std::string::npos) << stat.out;
  EXPECT_NE(stat.out.find("  6  "), std::string::npos) << stat.out;
  auto missing = agent->cli({"alloc", "fs", id, "t/local/nope"});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.err.find("nope"), std::string::npos) << missing.err;
}

TEST(AllocFs, PathsPastTheAllocDirSymlinksSecretsAndFifosAreRefused) {
  auto agent = AgentProcess::start();
  auto ids = run(*agent, "fsbad",
                 "ln -s /etc/passwd local/link; ln -s /etc local/dirlink; mkfifo local/fifo; "
                 "echo token > secrets/s.txt");
  ASSERT_EQ(ids.size(), 1u);
  const std::string base = "/v1/client/fs/";
  const std::string id = ids[0];
  struct Case {
    std::string request;
    int status;
    std::string says;
  };
  const std::vector<Case> cases = {
      {"cat/" + id + "?path=../../../../etc/passwd", 400, "escapes the alloc dir"},
      {"ls/" + id + "?path=t/../..", 400, "escapes the alloc dir"},
      {"cat/" + id + "?path=t/local/link", 403, "symlink"},
      {"ls/" + id + "?path=t/local/dirlink", 403, "symlink"},
      {"stat/" + id + "?path=t/local/dirlink/passwd", 403, "symlink"},
      {"cat/" + id + "?path=t/secrets/s.txt", 403, "secrets dir"},
      {"ls/" + id + "?path=/t/secrets", 403, "secrets dir"},
      {"stat/" + id + "?path=t/./secrets/s.txt", 403, "secrets dir"},
      {"cat/" + id + "?path=t/local/fifo", 400, "not a regular file"},
      {"readat/" + id + "?path=t/local/fifo&offset=0&limit=1", 400, "not a regular file"},
      {"ls/" + id + "?path=t/local/ready", 400, "Not a directory"},
      {"cat/" + id + "?path=t/local", 400, "not a regular file"},
      {"cat/" + id + "?path=t/local/nope", 404, "No such file"},
      {"cat/no-such-alloc?path=/", 404, "alloc"},
  };
  for (const auto& c : cases) {
    auto r = agent->get(base + c.request);
    EXPECT_EQ(r.status, c.status) << c.request << ": " << r.body;
    EXPECT_NE(r.body.find(c.says), std::string::npos) << c.request << ": " << r.body;
    EXPECT_EQ(r.body.find("root:"), std::string::npos) << c.request;
    EXPECT_EQ(r.body.find("token"), std::string::npos) << c.request;
  }
  // A link is listed as a link, never followed.
  auto local = agent->get(base + "ls/" + id + "?path=t/local").json();
  for (const auto& e : local)
    if (e["Name"] == "link") {
      EXPECT_EQ(e["FileMode"].get<std::string>().substr(0, 1), "L") << e.dump();
    }
  EXPECT_EQ(agent->get("/v1/agent/health").status, 200);
}

// -tail and -f, as `nomad alloc fs` has them: the last lines of a file, and a file followed
// while the task appends to it, to its end once the alloc has ended.
TEST(AllocFs, TailAndFollowReadAFileAsATaskWritesIt) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(
      "job:\n  id: fsfollow\n  type: batch\n  groups:\n    - name: g\n      tasks:\n"
      "        - name: t\n          driver: raw_exec\n          config:\n            command: /bin/sh\n"
      "            args: [\"-c\", \"for i in 1 2 3 4; do echo line-$i >> local/out.txt; sleep 0.3; done\"]\n");
  ASSERT_EQ(ids.size(), 1u);
  ASSERT_TRUE(drover::testing::eventually(
      [&] { return agent->get("/v1/client/fs/stat/" + ids[0] + "?path=t/local/out.txt").status == 200; },
      std::chrono::seconds(20)));
  auto follow = agent->cli({"alloc", "fs", "-f", ids[0], "t/local/out.txt"});
  EXPECT_EQ(follow.exit_code, 0) << follow.err;
  EXPECT_EQ(follow.out, "line-1\nline-2\nline-3\nline-4\n");
  auto tail = agent->cli({"alloc", "fs", "-tail", "-n", "2", ids[0], "t/local/out.txt"});
  EXPECT_EQ(tail.exit_code, 0) << tail.err;
  EXPECT_EQ(tail.out, "line-3\nline-4\n");
  auto bytes = agent->cli({"alloc", "fs", "-tail", "-c", "7", ids[0], "t/local/out.txt"});
  EXPECT_EQ(bytes.out, "line-4\n");
}

// GET /v1/client/fs/stream, Nomad's: a file as StreamFrames (one JSON object a line), data as
// the task appends it, each frame's Offset where its data ends, and a "file deleted" frame that
// ends the stream once the file is removed; follow=false sends what is there from origin and
// offset, and ends; what the other fs calls refuse, it refuses too.
TEST(AllocFs, StreamSendsNomadsFramesAsATaskWritesAndSaysWhenTheFileIsDeleted) {
  auto agent = AgentProcess::start();
  auto ids = run(*agent, "fsstream",
                 "echo fixed > local/fixed.txt; (for i in 1 2 3; do echo line-$i >> local/out.txt; sleep 0.2; done) & "
                 "echo writing");
  ASSERT_EQ(ids.size(), 1u);
  const std::string base = "/v1/client/fs/stream/" + ids[0];
  ASSERT_TRUE(drover::testing::eventually(
      [&] { return agent->get("/v1/client/fs/stat/" + ids[0] + "?path=t/local/out.txt").status == 200; },
      std::chrono::seconds(20)));

  std::mutex mu;
  std::string body;
  std::thread reader([&] {
    httplib::Client c("127.0.0.1", agent->port());
    c.set_read_timeout(60, 0);
    c.Get(base + "?path=t/local/out.txt", [&](const char* data, size_t n) {
      std::lock_guard lock(mu);
      body.append(data, n);
      return true;
    });
  });
  auto frames = [&] {
    std::lock_guard lock(mu);
    std::vector<json> out;
    std::size_t start = 0;
    for (std::size_t end; (end = body.find('\n', start)) != std::string::npos; start = end + 1)
      out.push_back(json::parse(body.substr(start, end - start), nullptr, false));
    return out;
  };
  auto data_of = [](const std::vector<json>& fs) {
    std::string out;
    for (const auto& f : fs)
      if (f.contains("Data")) out += drover::base64_decode(f["Data"].get<std::string>()).value_or("?");
    return out;
  };
  const bool all_lines = drover::testing::eventually(
      [&] { return data_of(frames()) == "line-1\nline-2\nline-3\n"; }, std::chrono::seconds(20));
  auto removed = agent->cli({"alloc", "exec", ids[0], "t", "--", "rm", "local/out.txt"});
  reader.join();  // the stream ends with the file
  ASSERT_TRUE(all_lines) << body;
  EXPECT_EQ(removed.exit_code, 0) << removed.err;
  auto fs = frames();
  ASSERT_FALSE(fs.empty());
  EXPECT_EQ(fs.back(), json({{"File", "t/local/out.txt"}, {"FileEvent", "file deleted"}})) << body;
  int64_t last = 0;
  for (const auto& f : fs)
    if (f.contains("Data")) {
      EXPECT_GT(f["Offset"].get<int64_t>(), last) << body;
      last = f["Offset"].get<int64_t>();
      EXPECT_EQ(f["File"], "t/local/out.txt");
    }
  EXPECT_EQ(last, 21);

  auto once = agent->get(base + "?path=t/local/fixed.txt&follow=false&origin=end&offset=3");
  ASSERT_EQ(once.status, 200) << once.body;
  EXPECT_EQ(once.body, json({{"Offset", 6}, {"Data", drover::base64_encode("ed\n")}, {"File", "t/local/fixed.txt"}}).dump() + "\n");
  EXPECT_EQ(agent->get(base).status, 400);
  EXPECT_EQ(agent->get(base + "?path=t/local/fixed.txt&origin=middle").status, 400);
  EXPECT_EQ(agent->get(base + "?path=t/secrets/x").status, 403);
  EXPECT_EQ(agent->get(base + "?path=../../etc/passwd").status, 400);
  EXPECT_EQ(agent->get(base + "?path=t/local/nope").status, 404);
}
