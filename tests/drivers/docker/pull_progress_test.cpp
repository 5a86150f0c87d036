// The docker driver's reading of dockerd's pull stream (drivers/docker/pull_progress.cpp),
// fed with lines as dockerd 20.10 writes them, in awkward chunks, on a made-up clock.
#include "pull_progress.hpp"

#include <gtest/gtest.h>

#include <string>

using drover::docker::human_bytes;
using drover::docker::PullProgress;
using namespace std::chrono_literals;

namespace {

void feed(PullProgress& p, const std::string& text) {
  for (std::size_t i = 0; i < text.size(); i += 7)
    p.feed(text.data() + i, std::min<std::size_t>(7, text.size() - i));
}

std::string downloading(const std::string& id, long long current, long long total) {
  return "{\"status\":\"Downloading\",\"progressDetail\":{\"current\":" + std::to_string(current) +
         ",\"total\":" + std::to_string(total) + "},\"progress\":\"[=>  ]\",\"id\":\"" + id +
         "\"}\n";
}

}  // namespace

TEST(PullProgress, SumsTheLayersAndReportsAtMostOncePerInterval) {
  const auto t0 = PullProgress::Clock::now();
  PullProgress p("reg:5000/app:1", 2s, t0);
  feed(p,
       "{\"status\":\"Pulling from app\",\"id\":\"1\"}\n"
       "{\"status\":\"Pulling fs layer\",\"progressDetail\":{},\"id\":\"aaa\"}\n"
       "{\"status\":\"Already exists\",\"progressDetail\":{},\"id\":\"old\"}\n" +
           downloading("aaa", 1048576, 4194304) + downloading("bbb", 0, 2097152));
  EXPECT_EQ(p.downloaded_bytes(), 1048576);
  EXPECT_EQ(p.total_bytes(), 6291456);
  EXPECT_FALSE(p.report_due(t0 + 1s)) << "too early";
  EXPECT_EQ(p.report_due(t0 + 2s).value_or(""), "Image reg:5000/app:1: 1.0 MiB/6.0 MiB pulled");
  feed(p, downloading("aaa", 2097152, 4194304));
  EXPECT_FALSE(p.report_due(t0 + 3s)) << "within the interval of the last report";
  EXPECT_EQ(p.report_due(t0 + 4s).value_or(""), "Image reg:5000/app:1: 2.0 MiB/6.0 MiB pulled");
  EXPECT_FALSE(p.report_due(t0 + 10s)) << "nothing new to say";
  feed(p,
       "{\"status\":\"Download complete\",\"progressDetail\":{},\"id\":\"aaa\"}\n"
       "{\"status\":\"Extracting\",\"progressDetail\":{\"current\":1,\"total\":9},\"id\":\"aaa\"}\n"
       "{\"status\":\"Pull complete\",\"progressDetail\":{},\"id\":\"bbb\"}\n"
       "{\"status\":\"Digest: sha256:abc\"}\n");
  EXPECT_EQ(p.downloaded_bytes(), 6291456);
  EXPECT_EQ(p.done_message(), "Image reg:5000/app:1 pulled (6.0 MiB downloaded)");
  EXPECT_EQ(p.error(), "");
}

TEST(PullProgress, TheStreamsErrorIsKept) {
  PullProgress p("reg:5000/app:1", 2s, PullProgress::Clock::now());
  feed(p,
       "{\"status\":\"Pulling from app\",\"id\":\"1\"}\n"
       "{\"errorDetail\":{\"message\":\"manifest unknown\"},\"error\":\"manifest unknown\"}\n");
  EXPECT_EQ(p.error(), "manifest unknown");
}

TEST(PullProgress, HumanBytes) {
  EXPECT_EQ(human_bytes(0), "0 B");
  EXPECT_EQ(human_bytes(1023), "1023 B");
  EXPECT_EQ(human_bytes(1536), "1.5 KiB");
  EXPECT_EQ(human_bytes(47185920), "45.0 MiB");
}
