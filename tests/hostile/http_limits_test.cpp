// The API's HTTP layer against hostile clients (issue 23, items 3 and 4 and the HTTP minors):
// bodies bounded before they are buffered whatever their framing or encoding, slow headers
// that cannot take the API from others, and framing that must be refused or fully answered.
// Memory is read from the agent's /proc/<pid>/status (its peak is reset before each load).
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>
#include <zlib.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "agent_process.hpp"
#include "hostile_support.hpp"

using drover::hostile::sh_job;
using drover::hostile::wait_for;
using drover::testing::AgentProcess;
using namespace std::chrono_literals;

namespace {

// A connection to the agent from `source` (any 127/8 address is this host), or -1.
int connect_from(int port, const char* source = "127.0.0.1") {
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in src{};
  src.sin_family = AF_INET;
  inet_pton(AF_INET, source, &src.sin_addr);
  sockaddr_in dst{};
  dst.sin_family = AF_INET;
  dst.sin_port = htons(port);
  dst.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, reinterpret_cast<sockaddr*>(&src), sizeof src) != 0 ||
      connect(fd, reinterpret_cast<sockaddr*>(&dst), sizeof dst) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

bool send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return false;
    data.remove_prefix(static_cast<std::size_t>(n));
  }
  return true;
}

// What arrives on fd until it holds `replies` complete replies, the peer closes, or the
// timeout passes.
std::string read_replies(int fd, std::chrono::milliseconds timeout, int replies = 1) {
  std::string got;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  auto complete = [&] {
    int n = 0;
    for (std::size_t pos = 0;;) {
      auto end = got.find("\r\n\r\n", pos);
      if (end == std::string::npos) return false;
      auto cl = got.find("Content-Length: ", pos);
      std::size_t len = cl != std::string::npos && cl < end ? std::stoul(got.substr(cl + 16)) : 0;
      if (got.size() < end + 4 + len) return false;
      pos = end + 4 + len;
      if (++n >= replies) return true;
    }
  };
  while (!complete()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    pollfd p{fd, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(left.count())) <= 0) break;
    char buf[8192];
    ssize_t n = recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, static_cast<std::size_t>(n));
  }
  return got;
}

int status_of(const std::string& reply) {
  return reply.size() >= 12 && reply.rfind("HTTP/1.", 0) == 0
             ? std::atoi(reply.substr(9, 3).c_str())
             : 0;
}

// One request on a fresh connection; the reply's text (status line, headers, body).
std::string exchange(int port, const std::string& request,
                     std::chrono::milliseconds timeout = 10s) {
  int fd = connect_from(port);
  if (fd < 0) return "";
  send_all(fd, request);
  auto reply = read_replies(fd, timeout);
  close(fd);
  return reply;
}

long status_kb(pid_t pid, const std::string& field) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind(field + ":", 0) == 0) return std::atol(line.c_str() + field.size() + 1);
  return -1;
}

// Resets the agent's peak RSS (VmHWM) to its current RSS, so a later VmHWM is this load's peak.
void reset_peak(pid_t pid) { std::ofstream("/proc/" + std::to_string(pid) + "/clear_refs") << "5"; }

// Sends `body_bytes` of chunked body in 64 KiB chunks until the agent replies or stops
// reading; returns the reply and how much was sent.
std::string post_chunked(int port, std::size_t body_bytes, std::size_t& sent) {
  int fd = connect_from(port);
  send_all(fd, "POST /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n");
  std::string chunk = "10000\r\n" + std::string(0x10000, 'a') + "\r\n";
  std::string reply;
  sent = 0;
  std::size_t off = 0;
  while (sent < body_bytes) {
    pollfd p{fd, POLLIN | POLLOUT, 0};
    if (poll(&p, 1, 10000) <= 0) break;
    if (p.revents & (POLLIN | POLLHUP | POLLERR)) break;  // the reply is there
    ssize_t n = send(fd, chunk.data() + off, chunk.size() - off, MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n <= 0) break;
    off += static_cast<std::size_t>(n);
    if (off == chunk.size()) {
      off = 0;
      sent += 0x10000;
    }
  }
  reply = read_replies(fd, 10s);
  close(fd);
  return reply;
}

// `bytes` of zeros, gzip-compressed (about 1/1000 of its size).
std::string gzip_zeros(std::size_t bytes) {
  z_stream z{};
  deflateInit2(&z, 9, Z_DEFLATED, 31, 9, Z_DEFAULT_STRATEGY);
  std::string in(1 << 20, '\0'), out, buf(1 << 16, '\0');
  for (std::size_t done = 0; done < bytes;) {
    auto n = std::min(in.size(), bytes - done);
    done += n;
    z.next_in = reinterpret_cast<Bytef*>(in.data());
    z.avail_in = static_cast<uInt>(n);
    int flush = done == bytes ? Z_FINISH : Z_NO_FLUSH;
    do {
      z.next_out = reinterpret_cast<Bytef*>(buf.data());
      z.avail_out = static_cast<uInt>(buf.size());
      deflate(&z, flush);
      out.append(buf.data(), buf.size() - z.avail_out);
    } while (z.avail_out == 0);
  }
  deflateEnd(&z);
  return out;
}

}  // namespace

TEST(HttpLimits, ChunkedBodyPastTheCapGets413BeforeItIsBuffered) {
  auto agent = AgentProcess::start();
  reset_peak(agent->pid());
  long rss_before = status_kb(agent->pid(), "VmRSS");
  std::size_t sent = 0;
  auto reply = post_chunked(agent->port(), 300u << 20, sent);
  EXPECT_EQ(status_of(reply), 413) << reply;
  EXPECT_NE(reply.find("too large"), std::string::npos) << reply;
  EXPECT_LT(sent, 16u << 20) << "the agent read on past the 1 MiB cap";
  long peak = status_kb(agent->pid(), "VmHWM");
  // The cap is 1 MiB; the connection may hold the cap's worth twice (raw and decoded).
  EXPECT_LT(peak - rss_before, 8 * 1024)
      << "VmRSS before " << rss_before << " kB, VmHWM after " << peak << " kB";
  EXPECT_EQ(agent->get("/v1/agent/health").status, 200);
}

TEST(HttpLimits, ChunkedBodyUnderTheCapIsServed) {
  auto agent = AgentProcess::start();
  auto job = sh_job("chunked-ok", "batch", "true");
  std::string request = "POST /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n";
  for (std::size_t i = 0; i < job.size(); i += 7) {
    auto part = job.substr(i, 7);
    char size[16];
    snprintf(size, sizeof size, "%zx", part.size());
    request += std::string(size) + "\r\n" + part + "\r\n";
  }
  request += "0\r\n\r\n";
  auto reply = exchange(agent->port(), request);
  EXPECT_EQ(status_of(reply), 200) << reply;
}

TEST(HttpLimits, GzipBombIsRefusedWithoutExpanding) {
  auto agent = AgentProcess::start();
  auto bomb = gzip_zeros(800u << 20);
  ASSERT_LT(bomb.size(), 1u << 20);  // under the body cap as sent
  reset_peak(agent->pid());
  long rss_before = status_kb(agent->pid(), "VmRSS");
  for (const char* encoding : {"gzip", "deflate", "br", "x-gzip, identity"}) {
    auto reply =
        exchange(agent->port(),
                 std::string("POST /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Encoding: ") + encoding +
                     "\r\nContent-Length: " + std::to_string(bomb.size()) + "\r\n\r\n" + bomb);
    EXPECT_EQ(status_of(reply), 415) << encoding << ": " << reply;
    EXPECT_NE(reply.find("Content-Encoding"), std::string::npos) << reply;
  }
  long peak = status_kb(agent->pid(), "VmHWM");
  EXPECT_LT(peak - rss_before, 8 * 1024)
      << "VmRSS before " << rss_before << " kB, VmHWM after " << peak << " kB";
  EXPECT_EQ(agent->get("/v1/agent/health").status, 200);
}

TEST(HttpLimits, SlowHeadersDoNotStopHealthForOthersWithAclsOn) {
  auto agent = AgentProcess::start({.config_yaml = "acl:\n  enabled: true\n"});
  // 16 slow clients on one address (the cap of 12 refuses 4 at accept), and 16 more from 16
  // addresses (no cap applies): each sends its head one byte a second.
  std::vector<int> slow;
  for (int i = 0; i < 16; ++i) slow.push_back(connect_from(agent->port(), "127.0.0.2"));
  for (int i = 0; i < 16; ++i)
    slow.push_back(connect_from(agent->port(), ("127.0.1." + std::to_string(i + 1)).c_str()));
  for (int fd : slow) ASSERT_GE(fd, 0);
  std::atomic<bool> done{false};
  std::atomic<int> bytes_sent{0};
  std::thread trickler([&] {
    const std::string head =
        "GET /v1/agent/health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + std::string(64, 'a');
    for (std::size_t i = 0; i < head.size() && !done; ++i) {
      for (int fd : slow) (void)send(fd, &head[i], 1, MSG_NOSIGNAL | MSG_DONTWAIT);
      ++bytes_sent;
      for (int t = 0; t < 10 && !done; ++t)
        std::this_thread::sleep_for(100ms);  // the attack's pace
    }
  });
  EXPECT_TRUE(wait_for([&] { return bytes_sent >= 3; }, 10s));
  // While the attack goes on, health answers others at once, again and again.
  for (int round = 0; round < 5; ++round) {
    auto start = std::chrono::steady_clock::now();
    auto reply = exchange(agent->port(), "GET /v1/agent/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 3s);
    EXPECT_EQ(status_of(reply), 200) << "round " << round << ": " << reply;
    EXPECT_LT(std::chrono::steady_clock::now() - start, 2s) << "round " << round;
    int before = bytes_sent;
    EXPECT_TRUE(wait_for([&] { return bytes_sent > before; }, 3s));
  }
  // 4 of the 16 from 127.0.0.2 were refused at accept (429); the head deadline (10 s from
  // connect) closes the other 28 with a 408, whatever their pace.
  int refused = 0, timed_out = 0;
  for (int fd : slow) {
    int code = status_of(read_replies(fd, 20s));
    refused += code == 429;
    timed_out += code == 408;
  }
  done = true;
  trickler.join();
  for (int fd : slow) close(fd);
  EXPECT_EQ(refused, 4);
  EXPECT_EQ(timed_out, 28);
  EXPECT_EQ(agent->get("/v1/agent/health").status, 200);
}

TEST(HttpLimits, FormEncodedBodyFollowsTheBodyCap) {
  auto agent = AgentProcess::start();
  // `curl -d @job.yaml` sends this type; the job is not a form and must not hit a form cap.
  auto job = sh_job("form-job", "batch", "true") + "# " + std::string(64 * 1024, 'x') + "\n";
  auto reply = agent->post("/v1/jobs", job, "application/x-www-form-urlencoded");
  EXPECT_EQ(reply.status, 200) << reply.body;
  auto big =
      agent->post("/v1/jobs", std::string(2 << 20, 'x'), "application/x-www-form-urlencoded");
  EXPECT_EQ(big.status, 413) << big.body;
}

TEST(HttpLimits, NegativeEventIndexIsRefusedNamingTheParameter) {
  auto agent = AgentProcess::start();
  for (const char* bad : {"-1", "1e3", "18446744073709551616", ""}) {
    auto reply = agent->get(std::string("/v1/event/stream?index=") + bad);
    EXPECT_EQ(reply.status, 400) << bad << ": " << reply.body;
    EXPECT_NE(reply.body.find("index"), std::string::npos) << reply.body;
  }
}

TEST(HttpLimits, AmbiguousBodyFramingIsRefused) {
  auto agent = AgentProcess::start();
  auto reply = exchange(
      agent->port(),
      "POST /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4\r\nContent-Length: 40\r\n\r\nabcd");
  EXPECT_EQ(status_of(reply), 400) << reply;
  EXPECT_NE(reply.find("Content-Length"), std::string::npos) << reply;
  reply = exchange(agent->port(),
                   "POST /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4\r\nTransfer-Encoding: "
                   "chunked\r\n\r\n0\r\n\r\n");
  EXPECT_EQ(status_of(reply), 400) << reply;
  reply = exchange(agent->port(),
                   "POST /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4, 5\r\n\r\nabcde");
  EXPECT_EQ(status_of(reply), 400) << reply;
  reply = exchange(
      agent->port(),
      "POST /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n");
  EXPECT_EQ(status_of(reply), 501) << reply;
  EXPECT_EQ(agent->get("/v1/agent/health").status, 200);
}

TEST(HttpLimits, PipelinedRequestsAreAllAnswered) {
  auto agent = AgentProcess::start();
  int fd = connect_from(agent->port());
  ASSERT_GE(fd, 0);
  const std::string health = "GET /v1/agent/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
  const std::string post = "POST /v1/jobs HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\n\r\n{}";
  ASSERT_TRUE(send_all(fd, health + post + health));
  auto replies = read_replies(fd, 10s, 3);
  close(fd);
  std::vector<int> codes;
  for (std::size_t pos = 0; (pos = replies.find("HTTP/1.1 ", pos)) != std::string::npos; pos += 9)
    codes.push_back(std::atoi(replies.substr(pos + 9, 3).c_str()));
  EXPECT_EQ(codes, (std::vector<int>{200, 400, 200})) << replies;
}

TEST(HttpLimits, InvalidUtf8InABodyIs400NamingIt) {
  auto agent = AgentProcess::start();
  auto json_reply = agent->post("/v1/jobs", "{\"Job\": {\"ID\": \"a\xff\", \"Name\": \"b\"}}",
                                "application/json");
  EXPECT_EQ(json_reply.status, 400) << json_reply.body;
  EXPECT_NE(json_reply.body.find("UTF-8"), std::string::npos) << json_reply.body;
  auto yaml_reply = agent->post("/v1/jobs", sh_job("utf8-\xc3", "batch", "true"));
  EXPECT_EQ(yaml_reply.status, 400) << yaml_reply.body;
  EXPECT_NE(yaml_reply.body.find("UTF-8"), std::string::npos) << yaml_reply.body;
  EXPECT_EQ(agent->get("/v1/agent/health").status, 200);
}
