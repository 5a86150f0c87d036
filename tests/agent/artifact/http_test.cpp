// HTTP downloads through libcurl against a local python server (http_fixture.py): a cut
// transfer resumed with Range, a 503 retried, size caps by Content-Length and while streaming,
// a redirect loop capped, a 404 failing at once, request headers sent.
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "artifact/getters.hpp"
#include "test_files.hpp"

using namespace drover::artifact;
namespace fs = std::filesystem;
using namespace std::chrono_literals;

using drover::test_support::slurp;

namespace {

int free_port() {
  int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(s, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(s);
  return ntohs(a.sin_port);
}

bool accepts(int port) {
  int s = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(s);
  return ok;
}

class Http : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = drover::test_support::scratch_dir("artifact-http");
    port_ = free_port();
    pid_ = ::fork();
    if (pid_ == 0) {
      const std::string port = std::to_string(port_), log = (dir_ / "requests.log").string();
      ::execlp("python3", "python3", HTTP_FIXTURE, port.c_str(), log.c_str(), nullptr);
      ::_exit(127);
    }
    for (auto end = std::chrono::steady_clock::now() + 15s;
         !accepts(port_) && std::chrono::steady_clock::now() < end;)
      std::this_thread::sleep_for(20ms);
    ASSERT_TRUE(accepts(port_)) << "the python fixture did not start";
    limits_.http_retry_backoff = 10ms;
  }
  void TearDown() override {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    fs::remove_all(dir_);
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  std::string requests() const { return slurp(dir_ / "requests.log"); }
  int count(const std::string& path) const {
    const std::string log = requests();
    int n = 0;
    for (std::size_t at = 0; (at = log.find(path + " range=", at)) != std::string::npos; ++at) ++n;
    return n;
  }

  fs::path dir_;
  int port_ = 0;
  pid_t pid_ = -1;
  Limits limits_;
};

const std::string kBody = [] {
  std::string s;
  for (int i = 0; i < 1000; ++i) s += "0123456789";
  return s;
}();

}  // namespace

TEST_F(Http, DownloadsAFile) {
  auto st = http_download(url("/file"), {}, dir_ / "out", limits_);
  ASSERT_TRUE(st) << st.message();
  EXPECT_EQ(slurp(dir_ / "out"), kBody);
}

TEST_F(Http, ACutTransferIsResumedWithRange) {
  auto st = http_download(url("/flaky"), {}, dir_ / "out", limits_);
  ASSERT_TRUE(st) << st.message();
  EXPECT_EQ(slurp(dir_ / "out"), kBody);
  EXPECT_NE(requests().find("/flaky range=bytes=4000-"), std::string::npos) << requests();
}

TEST_F(Http, A503IsRetriedAndA404IsNot) {
  auto st = http_download(url("/unavailable-once"), {}, dir_ / "out", limits_);
  ASSERT_TRUE(st) << st.message();
  EXPECT_EQ(count("/unavailable-once"), 2);
  auto missing = http_download(url("/missing?token=secret"), {}, dir_ / "missing", limits_);
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.message().find("HTTP 404"), std::string::npos) << missing.message();
  EXPECT_EQ(missing.message().find("secret"), std::string::npos) << missing.message();
  EXPECT_EQ(count("/missing?token=secret"), 1);
}

TEST_F(Http, SizeCapStopsByLengthAndWhileStreaming) {
  limits_.http_max_size = 1 << 20;
  auto big = http_download(url("/big"), {}, dir_ / "big", limits_);
  ASSERT_FALSE(big);
  EXPECT_NE(big.message().find("artifact.http_max_size"), std::string::npos) << big.message();
  EXPECT_LE(fs::file_size(dir_ / "big"), 1u << 20);
  auto endless = http_download(url("/endless"), {}, dir_ / "endless", limits_);
  ASSERT_FALSE(endless);
  EXPECT_NE(endless.message().find("artifact.http_max_size"), std::string::npos)
      << endless.message();
  EXPECT_LE(fs::file_size(dir_ / "endless"), 1u << 20);
}

TEST_F(Http, RedirectLoopIsCapped) {
  auto st = http_download(url("/loop"), {}, dir_ / "out", limits_);
  ASSERT_FALSE(st);
  EXPECT_NE(st.message().find("redirect"), std::string::npos) << st.message();
  EXPECT_EQ(count("/loop"), 11);
}

TEST_F(Http, HeadersAreSent) {
  ASSERT_TRUE(http_download(url("/header"), {{"X-Token", "t0k3n"}}, dir_ / "out", limits_));
  EXPECT_EQ(slurp(dir_ / "out"), "t0k3n");
}
