// Resources and records (issue 23): a log read without follow streams from disk instead of
// holding the whole log; the jobs list stays right at hundreds of jobs and dead jobs are
// garbage collected (or purged); tokens can be revoked; a multi-document YAML job is refused;
// stats of an alloc with no live task are a 404 with the reason, not zeros.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "agent_process.hpp"
#include "hostile_support.hpp"

using drover::hostile::sh_job;
using drover::hostile::wait_for;
using drover::testing::AgentProcess;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

// The agent's peak resident set (VmHWM) in KiB.
long vm_hwm_kib(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0) return std::stol(line.substr(6));
  return -1;
}

std::string log_path(const AgentProcess& a, const std::string& alloc, const std::string& file) {
  return a.data_dir() + "/alloc/" + alloc + "/alloc/logs/" + file;
}

void write_exact(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
}

httplib::Result call(const AgentProcess& a, const std::string& method, const std::string& path,
                     const std::string& token, const std::string& body = "") {
  httplib::Client c("127.0.0.1", a.port());
  c.set_read_timeout(10);
  httplib::Headers h;
  if (!token.empty()) h.emplace("X-Nomad-Token", token);
  if (method == "GET") return c.Get(path.c_str(), h);
  if (method == "DELETE") return c.Delete(path.c_str(), h);
  return c.Post(path.c_str(), h, body, "application/json");
}

json jobs_list(const AgentProcess& a, const std::string& query = "") {
  auto r = a.get("/v1/jobs" + query);
  EXPECT_EQ(r.status, 200) << r.body;
  return r.json();
}

const json* find_job(const json& list, const std::string& id) {
  for (const auto& j : list)
    if (j.value("ID", "") == id) return &j;
  return nullptr;
}

}  // namespace

// 600 MB of logs took the agent to 1.2 GB: the whole log was read into one string first.
TEST(Logs, ReadWithoutFollowStreamsFromDiskInBoundedMemory) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(sh_job("biglog", "batch", "true"));
  agent->wait_client_status(ids[0], "complete");
  const auto path = log_path(*agent, ids[0], "t.stdout.0");
  ASSERT_TRUE(std::filesystem::exists(path));
  // 200 MiB, sparse (no disk), ending in a mark the reader must get.
  constexpr off_t kSize = 200 << 20;
  {
    int fd = open(path.c_str(), O_WRONLY);
    ASSERT_GE(fd, 0);
    ASSERT_EQ(ftruncate(fd, kSize - 4), 0);
    ASSERT_EQ(pwrite(fd, "END\n", 4, kSize - 4), 4);
    close(fd);
  }
  const long before = vm_hwm_kib(agent->pid());
  ASSERT_GT(before, 0);
  httplib::Client c("127.0.0.1", agent->port());
  c.set_read_timeout(60);
  std::size_t got = 0;
  std::string tail;
  auto r = c.Get(("/v1/client/fs/logs/" + ids[0] + "?task=t&type=stdout").c_str(),
                 [&](const char* data, std::size_t n) {
                   got += n;
                   tail.append(data, n);
                   if (tail.size() > 4) tail.erase(0, tail.size() - 4);
                   return true;
                 });
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(got, static_cast<std::size_t>(kSize));
  EXPECT_EQ(tail, "END\n");
  const long grown_mib = (vm_hwm_kib(agent->pid()) - before) / 1024;
  EXPECT_LT(grown_mib, 32) << "the agent's peak RSS grew by " << grown_mib
                           << " MiB for a 200 MiB log";
}

// Streaming kept the offset and origin semantics across rotated files.
TEST(Logs, OffsetAndOriginStillSpanRotatedFiles) {
  auto agent = AgentProcess::start();
  auto ids = agent->submit(sh_job("rotated", "batch", "true"));
  agent->wait_client_status(ids[0], "complete");
  write_exact(log_path(*agent, ids[0], "t.stdout.0"), "0123456789");
  write_exact(log_path(*agent, ids[0], "t.stdout.1"), "abcdefghij");
  write_exact(log_path(*agent, ids[0], "t.stdout.2"), "KLMNO");
  auto logs = [&](const std::string& q) {
    auto r = agent->get("/v1/client/fs/logs/" + ids[0] + "?task=t" + q);
    EXPECT_EQ(r.status, 200) << q << ": " << r.body;
    return r.body;
  };
  EXPECT_EQ(logs(""), "0123456789abcdefghijKLMNO");
  EXPECT_EQ(logs("&offset=7"), "789abcdefghijKLMNO");
  EXPECT_EQ(logs("&offset=20"), "KLMNO");
  EXPECT_EQ(logs("&origin=end&offset=8"), "hijKLMNO");
  EXPECT_EQ(logs("&origin=end&offset=0"), "");
  EXPECT_EQ(logs("&origin=end&offset=1000"), "0123456789abcdefghijKLMNO");
  EXPECT_EQ(logs("&offset=1000"), "");
  EXPECT_EQ(logs("&type=stderr"), "");
  // A log name swapped for a symlink is still refused before anything is sent.
  std::filesystem::remove(log_path(*agent, ids[0], "t.stderr.0"));
  std::filesystem::create_symlink("/etc/passwd", log_path(*agent, ids[0], "t.stderr.0"));
  auto r = agent->get("/v1/client/fs/logs/" + ids[0] + "?task=t&type=stderr");
  EXPECT_EQ(r.status, 403) << r.body;
  EXPECT_EQ(r.body.find("root:"), std::string::npos);
}

