// Artifacts through the real agent and raw_exec: an archive served by `python3 -m
// http.server` on loopback is unpacked into the task dir after its checksum is checked; a
// bad checksum fails the task with both sums in its event; a zip-slip archive is refused
// with nothing written outside; a git artifact comes from a local repository; a restarted
// task does not download again.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "agent_process.hpp"

using drover::testing::AgentProcess;
using drover::testing::eventually;
using drover::testing::free_loopback_port;
using drover::testing::make_temp_dir;
using drover::testing::read_file;
using drover::testing::write_file;
using nlohmann::json;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

// `python3 -m http.server` on a free loopback port, serving `dir`; its request log (one
// line per GET) goes to `dir`/../http.log.
class HttpServer {
 public:
  explicit HttpServer(const std::string& dir) : log_(fs::path(dir).parent_path() / "http.log") {
    port_ = free_loopback_port();
    pid_ = ::fork();
    if (pid_ == 0) {
      ::setpgid(0, 0);
      int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      const std::string port = std::to_string(port_);
      ::execlp("python3", "python3", "-m", "http.server", port.c_str(), "--bind", "127.0.0.1",
               "--directory", dir.c_str(), nullptr);
      ::_exit(127);
    }
    // Up once it accepts a connection.
    bool up = eventually(
        [&] {
          int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
          sockaddr_in a{};
          a.sin_family = AF_INET;
          a.sin_port = htons(static_cast<uint16_t>(port_));
          a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
          bool ok = ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
          ::close(s);
          return ok;
        },
        15s);
    EXPECT_TRUE(up) << "python3 -m http.server did not start: " << read_file(log_);
  }
  ~HttpServer() {
    if (pid_ > 0) {
      ::kill(-pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
  }
  std::string url(const std::string& file) const {
    return "http://127.0.0.1:" + std::to_string(port_) + "/" + file;
  }
  // How many times `file` was fetched.
  int gets(const std::string& file) const {
    const std::string log = read_file(log_);
    int n = 0;
    for (std::size_t at = 0; (at = log.find("\"GET /" + file + " ", at)) != std::string::npos; ++at)
      ++n;
    return n;
  }

 private:
  fs::path log_;
  int port_ = 0;
  pid_t pid_ = -1;
};

int sh(const std::string& cmd) { return std::system(cmd.c_str()); }

std::string sha256_of(const std::string& path) {
  const std::string out = path + ".sum";
  EXPECT_EQ(sh("sha256sum '" + path + "' | cut -d' ' -f1 > '" + out + "'"), 0);
  std::string sum = read_file(out);
  while (!sum.empty() && sum.back() == '\n') sum.pop_back();
  return sum;
}

// A raw_exec batch job whose one task runs `script`, with `artifacts` (YAML list items,
// indented for the task) and a restart policy.
std::string job(const std::string& id, const std::string& script, const std::string& artifacts,
                const std::string& restart = "{attempts: 0, mode: fail}") {
  return "job:\n  id: " + id +
         "\n  type: batch\n  groups:\n    - name: g\n      restart: " + restart +
         "\n      tasks:\n        - name: t\n          driver: raw_exec\n"
         "          config:\n            command: /bin/sh\n            args: [\"-c\", \"" +
         script + "\"]\n          artifacts:\n" + artifacts;
}

std::vector<json> events(const json& alloc, const std::string& type) {
  std::vector<json> out;
  for (const auto& e : alloc["TaskStates"]["t"]["Events"])
    if (e["Type"] == type) out.push_back(e);
  return out;
}

class Artifacts : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = make_temp_dir("drover-artifacts");
    served_ = dir_ + "/served";
    fs::create_directories(served_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  // app.tar.gz with app/hello.txt and app/bin/run.sh (executable).
  std::string make_app_tarball() {
    const std::string src = dir_ + "/src";
    fs::create_directories(src + "/app/bin");
    write_file(src + "/app/hello.txt", "hello from an artifact\n");
    write_file(src + "/app/bin/run.sh", "#!/bin/sh\necho ran\n");
    fs::permissions(src + "/app/bin/run.sh", fs::perms::owner_all, fs::perm_options::add);
    EXPECT_EQ(sh("tar -czf '" + served_ + "/app.tar.gz' -C '" + src + "' app"), 0);
    return served_ + "/app.tar.gz";
  }
  fs::path task_dir(const AgentProcess& agent, const std::string& alloc) const {
    return fs::path(agent.data_dir()) / "alloc" / alloc / "t";
  }

  std::string dir_, served_;
};

}  // namespace

TEST_F(Artifacts, ArchiveFromHttpIsCheckedAndUnpackedBeforeTheTaskStarts) {
  const std::string sum = sha256_of(make_app_tarball());
  HttpServer http(served_);
  auto agent = AgentProcess::start();
  auto ids =
      agent->submit(job("unpack", "test -x local/app/bin/run.sh && cat local/app/hello.txt",
                        "            - source: " + http.url("app.tar.gz") +
                            "\n              options: {checksum: \"sha256:" + sum + "\"}\n"));
  auto a = agent->wait_client_status(ids[0], "complete", 30s);
  EXPECT_EQ(a["ClientStatus"], "complete") << a.dump(2);
  EXPECT_EQ(events(a, "Downloading Artifacts").size(), 1u) << a.dump(2);
  EXPECT_EQ(read_file(task_dir(*agent, ids[0]) / "local/app/hello.txt"),
            "hello from an artifact\n");
  auto logs = agent->get("/v1/client/fs/logs/" + ids[0] + "?task=t").body;
  EXPECT_NE(logs.find("hello from an artifact"), std::string::npos) << logs;
}

// libcurl and libarchive (and GnuTLS, Kerberos, libxml2, ICU behind them) cost 8.6 MiB of RSS:
// the agent maps them with its artifact I/O module on its first artifact, not at start.
TEST_F(Artifacts, TheAgentMapsTheDownloadAndArchiveLibrariesOnlyForItsFirstArtifact) {
  const std::string sum = sha256_of(make_app_tarball());
  HttpServer http(served_);
  auto agent = AgentProcess::start();
  const std::string maps = "/proc/" + std::to_string(agent->pid()) + "/maps";
  auto mapped = [&](const std::string& what) {
    return read_file(maps).find(what) != std::string::npos;
  };
  ASSERT_FALSE(mapped("libcurl")) << read_file(maps);
  EXPECT_FALSE(mapped("libarchive"));
  EXPECT_FALSE(mapped("artifact-io.so"));
  auto ids = agent->submit(job("lazy", "cat local/app/hello.txt",
                               "            - source: " + http.url("app.tar.gz") +
                                   "\n              options: {checksum: \"sha256:" + sum + "\"}\n"));
  auto a = agent->wait_client_status(ids[0], "complete", 30s);
  EXPECT_EQ(a["ClientStatus"], "complete") << a.dump(2);
  EXPECT_TRUE(mapped("artifact-io.so"));
  EXPECT_TRUE(mapped("libcurl"));
}

TEST_F(Artifacts, BadChecksumFailsTheTaskWithBothSums) {
  const std::string sum = sha256_of(make_app_tarball());
  HttpServer http(served_);
  auto agent = AgentProcess::start();
  const std::string wrong(64, '0');
  auto ids =
      agent->submit(job("badsum", "echo should not run",
                        "            - source: " + http.url("app.tar.gz") +
                            "\n              options: {checksum: \"sha256:" + wrong + "\"}\n"));
  auto a = agent->wait_client_status(ids[0], "failed", 30s);
  auto failed = events(a, "Failed Artifact Download");
  ASSERT_EQ(failed.size(), 1u) << a.dump(2);
  const std::string msg = failed[0]["Message"];
  EXPECT_NE(msg.find("expected sha256:" + wrong), std::string::npos) << msg;
  EXPECT_NE(msg.find("got sha256:" + sum), std::string::npos) << msg;
  EXPECT_EQ(events(a, "Started").size(), 0u) << a.dump(2);
  // Nothing was unpacked: the checksum comes first.
  EXPECT_FALSE(fs::exists(task_dir(*agent, ids[0]) / "local/app"));
}

TEST_F(Artifacts, ZipSlipArchiveIsRefusedWithNothingWrittenOutside) {
  const std::string marker = "escaped-" + std::to_string(::getpid());
  // Deep enough to leave local/, the task dir, the alloc dir and the data dir.
  ASSERT_EQ(sh("cd '" + served_ +
               "' && python3 -c \"import zipfile; z = zipfile.ZipFile('evil.zip', "
               "'w'); z.writestr('ok.txt', 'ok'); z.writestr('../../../../../" +
               marker + "', 'pwned'); z.close()\""),
            0);
  HttpServer http(served_);
  auto agent = AgentProcess::start();
  auto ids = agent->submit(
      job("slip", "echo should not run", "            - source: " + http.url("evil.zip") + "\n"));
  auto a = agent->wait_client_status(ids[0], "failed", 30s);
  auto failed = events(a, "Failed Artifact Download");
  ASSERT_EQ(failed.size(), 1u) << a.dump(2);
  EXPECT_NE(failed[0]["Message"].get<std::string>().find("refused"), std::string::npos)
      << a.dump(2);
  // Nowhere from the data dir's parent down is there a file of that name.
  const fs::path top = fs::path(agent->data_dir()).parent_path();
  std::error_code ec;
  for (fs::path p = task_dir(*agent, ids[0]) / "local"; p != top.parent_path(); p = p.parent_path())
    EXPECT_FALSE(fs::exists(p / marker, ec)) << p / marker;
  for (fs::recursive_directory_iterator it(agent->data_dir(), ec), end; it != end; it.increment(ec))
    EXPECT_NE(it->path().filename(), marker) << it->path();
}

TEST_F(Artifacts, GitArtifactFromALocalRepository) {
  const std::string repo = dir_ + "/repo";
  ASSERT_EQ(sh("git init -q '" + repo + "' && cd '" + repo +
               "' && git config user.email t@t && git config user.name t && echo v1 > version"
               " && git add version && git commit -qm one && git tag v1"
               " && echo v2 > version && git commit -qam two"),
            0);
  auto agent = AgentProcess::start();
  auto ids = agent->submit(job("git", "cat local/repo/version",
                               "            - source: git::file://" + repo +
                                   "\n              destination: local/repo"
                                   "\n              options: {ref: v1}\n"));
  auto a = agent->wait_client_status(ids[0], "complete", 30s);
  EXPECT_EQ(a["ClientStatus"], "complete") << a.dump(2);
  EXPECT_EQ(read_file(task_dir(*agent, ids[0]) / "local/repo/version"), "v1\n");
}

TEST_F(Artifacts, ARestartedTaskDoesNotDownloadAgain) {
  make_app_tarball();
  HttpServer http(served_);
  auto agent = AgentProcess::start();
  // The first run fails, the restart succeeds: both find the artifact.
  auto ids = agent->submit(
      job("restart",
          "test -f local/app/hello.txt || exit 3; "
          "if [ -f ../alloc/data/ran ]; then exit 0; fi; touch ../alloc/data/ran; exit 1",
          "            - source: " + http.url("app.tar.gz") + "\n",
          "{attempts: 2, delay: 100ms, interval: 1m, mode: fail}"));
  auto a = agent->wait_client_status(ids[0], "complete", 30s);
  EXPECT_EQ(a["ClientStatus"], "complete") << a.dump(2);
  EXPECT_EQ(a["TaskStates"]["t"]["Restarts"], 1) << a.dump(2);
  EXPECT_EQ(events(a, "Downloading Artifacts").size(), 1u) << a.dump(2);
  EXPECT_EQ(http.gets("app.tar.gz"), 1);
}

// Nomad's jobs fetch into the shared dir with "../alloc/..." or "${NOMAD_ALLOC_DIR}/...";
// the archive is unpacked there, not under the task dir (docs/artifacts.md).
TEST_F(Artifacts, DestinationInTheSharedAllocDir) {
  make_app_tarball();
  HttpServer http(served_);
  auto agent = AgentProcess::start();
  auto ids = agent->submit(job("shared", "cat ../alloc/app/hello.txt ../alloc/data/copy.txt",
                               "            - source: " + http.url("app.tar.gz") +
                                   "\n              destination: ../alloc\n"
                                   "            - source: " + http.url("app.tar.gz") +
                                   "\n              options: {archive: \"false\"}\n"
                                   "              mode: file\n"
                                   "              destination: \"${NOMAD_ALLOC_DIR}/data/copy.txt\"\n"));
  auto a = agent->wait_client_status(ids[0], "complete", 30s);
  ASSERT_EQ(a["ClientStatus"], "complete") << a.dump(2);
  const fs::path root = fs::path(agent->data_dir()) / "alloc" / ids[0];
  EXPECT_EQ(read_file(root / "alloc/app/hello.txt"), "hello from an artifact\n");
  EXPECT_TRUE(fs::is_regular_file(root / "alloc/data/copy.txt"));
  EXPECT_FALSE(fs::exists(task_dir(*agent, ids[0]) / "app"));
}

TEST_F(Artifacts, FileSourceFromAnHclJobOnlyFromTheConfiguredDir) {
  fs::create_directories(dir_ + "/allowed");
  fs::create_directories(dir_ + "/private");
  write_file(dir_ + "/allowed/app.conf", "port = 8080\n");
  write_file(dir_ + "/private/key", "secret\n");
  AgentProcess::Options opts;
  opts.config_yaml = "artifact:\n  file_allowed_dirs: [" + dir_ + "/allowed]\n";
  auto agent = AgentProcess::start(opts);
  auto hcl = [&](const std::string& id, const std::string& source) {
    const std::string file = dir_ + "/" + id + ".nomad.hcl";
    write_file(file, "job \"" + id +
                         "\" {\n  type = \"batch\"\n  group \"g\" {\n"
                         "    restart {\n      attempts = 0\n      mode = \"fail\"\n    }\n"
                         "    task \"t\" {\n      driver = \"raw_exec\"\n"
                         "      config {\n        command = \"/bin/cat\"\n"
                         "        args = [\"local/conf/app.conf\"]\n      }\n"
                         "      artifact {\n        source = \"" +
                         source +
                         "\"\n"
                         "        mode = \"file\"\n        destination = \"local/conf/app.conf\"\n"
                         "      }\n    }\n  }\n}\n");
    auto run = agent->cli({"job", "run", "--detach", file});
    EXPECT_EQ(run.exit_code, 0) << run.out << run.err;
    auto allocs = agent->get("/v1/job/" + id + "/allocations").json();
    EXPECT_EQ(allocs.size(), 1u) << allocs.dump();
    return allocs.empty() ? std::string() : allocs[0]["ID"].get<std::string>();
  };
  const std::string ok = hcl("allowed", "file://" + dir_ + "/allowed/app.conf");
  auto a = agent->wait_client_status(ok, "complete", 30s);
  EXPECT_EQ(a["ClientStatus"], "complete") << a.dump(2);
  EXPECT_EQ(read_file(task_dir(*agent, ok) / "local/conf/app.conf"), "port = 8080\n");

  const std::string refused = hcl("private", "file://" + dir_ + "/private/key");
  auto b = agent->wait_client_status(refused, "failed", 30s);
  auto failed = events(b, "Failed Artifact Download");
  ASSERT_EQ(failed.size(), 1u) << b.dump(2);
  EXPECT_NE(failed[0]["Message"].get<std::string>().find("artifact.file_allowed_dirs"),
            std::string::npos)
      << b.dump(2);
  EXPECT_FALSE(fs::exists(task_dir(*agent, refused) / "local/conf/app.conf"));
}
