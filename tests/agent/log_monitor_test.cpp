// The log monitor behind `drover monitor` (core/log_monitor.hpp): a reader below the
// configured level lowers the logger's level while it reads and the process's own sink keeps
// its level; a reader that falls behind loses lines and is told how many; readers are capped.
#include "core/log_monitor.hpp"

#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>
#include <sstream>

using drover::agent::LogMonitor;
using namespace std::chrono_literals;

namespace {

// The process's own output, as the agent's stderr: a sink on the default logger, at info.
std::ostringstream& own_output() {
  static std::ostringstream out;
  static LogMonitor* installed = [] {
    auto logger = std::make_shared<spdlog::logger>(
        "agent", std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
    spdlog::set_default_logger(logger);
    return &LogMonitor::install(spdlog::level::info);
  }();
  (void)installed;
  return out;
}

LogMonitor& monitor() {
  own_output();
  return LogMonitor::install(spdlog::level::info);
}

}  // namespace

TEST(LogMonitor, AReaderBelowTheLevelLowersItWhileItReadsAndTheOwnOutputStaysAtItsLevel) {
  auto& m = monitor();
  EXPECT_EQ(spdlog::default_logger()->level(), spdlog::level::info);
  auto reader = m.follow(spdlog::level::debug, false);
  ASSERT_TRUE(reader);
  EXPECT_EQ(spdlog::default_logger()->level(), spdlog::level::debug);
  spdlog::debug("a debug line {}", 1);
  spdlog::trace("a trace line");
  spdlog::info("an info line");
  const auto text = reader->take(1s);
  EXPECT_NE(text.find("[debug] a debug line 1\n"), std::string::npos) << text;
  EXPECT_NE(text.find("[info] an info line\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("trace"), std::string::npos) << text;
  EXPECT_EQ(own_output().str().find("a debug line"), std::string::npos) << own_output().str();
  EXPECT_NE(own_output().str().find("an info line"), std::string::npos);
  m.stop(reader);
  EXPECT_TRUE(reader->closed());
  EXPECT_EQ(spdlog::default_logger()->level(), spdlog::level::info) << "back when it went";
}

TEST(LogMonitor, AReaderAboveTheLevelSeesOnlyItsLevelAndLeavesTheLoggerAlone) {
  auto& m = monitor();
  auto reader = m.follow(spdlog::level::warn, true);
  ASSERT_TRUE(reader);
  EXPECT_EQ(spdlog::default_logger()->level(), spdlog::level::info);
  spdlog::info("not for it");
  spdlog::warn("for it");
  const auto text = reader->take(1s);
  EXPECT_EQ(text.find("not for it"), std::string::npos) << text;
  auto line = nlohmann::json::parse(text.substr(0, text.find('\n')), nullptr, false);
  ASSERT_TRUE(line.is_object()) << text;
  EXPECT_EQ(line["@level"], "warn");
  EXPECT_EQ(line["@message"], "for it");
  EXPECT_EQ(line["@module"], "agent");
  m.stop(reader);
}

TEST(LogMonitor, AReaderThatFallsBehindLosesLinesAndIsToldHowMany) {
  auto& m = monitor();
  auto reader = m.follow(spdlog::level::info, false);
  ASSERT_TRUE(reader);
  const std::size_t n = LogMonitor::kQueueLines + 100;
  for (std::size_t i = 0; i < n; ++i) spdlog::info("line {}", i);
  const auto text = reader->take(1s);
  EXPECT_EQ(text.rfind("[warn] drover monitor: this reader fell behind and 100 log lines were "
                       "dropped\n",
                       0),
            0u)
      << text.substr(0, 200);
  EXPECT_NE(text.find("] line 0\n"), std::string::npos);
  EXPECT_NE(text.find("] line " + std::to_string(LogMonitor::kQueueLines - 1) + "\n"),
            std::string::npos);
  EXPECT_EQ(text.find("] line " + std::to_string(LogMonitor::kQueueLines) + "\n"),
            std::string::npos);
  // Caught up: the next lines come whole, with no warning.
  spdlog::info("after");
  EXPECT_EQ(reader->take(1s).find("dropped"), std::string::npos);
  m.stop(reader);
}

TEST(LogMonitor, ReadersAreCappedAndAPlaceFreesWhenOneStops) {
  auto& m = monitor();
  std::vector<std::shared_ptr<LogMonitor::Reader>> readers;
  for (std::size_t i = 0; i < LogMonitor::kMaxReaders; ++i) {
    readers.push_back(m.follow(spdlog::level::info, false));
    ASSERT_TRUE(readers.back());
  }
  EXPECT_FALSE(m.follow(spdlog::level::info, false));
  m.stop(readers.back());
  readers.pop_back();
  auto again = m.follow(spdlog::level::trace, false);
  EXPECT_TRUE(again);
  EXPECT_EQ(spdlog::default_logger()->level(), spdlog::level::trace);
  m.stop(again);
  for (auto& r : readers) m.stop(r);
  EXPECT_EQ(m.readers(), 0u);
  EXPECT_EQ(spdlog::default_logger()->level(), spdlog::level::info);
}

TEST(LogMonitor, LevelNamesAreNomadsInAnyCase) {
  spdlog::level::level_enum l{};
  EXPECT_TRUE(drover::agent::parse_log_level("DEBUG", &l));
  EXPECT_EQ(l, spdlog::level::debug);
  EXPECT_TRUE(drover::agent::parse_log_level("Error", &l));
  EXPECT_EQ(l, spdlog::level::err);
  EXPECT_FALSE(drover::agent::parse_log_level("verbose", &l));
  EXPECT_FALSE(drover::agent::parse_log_level("off", &l));
  EXPECT_FALSE(drover::agent::parse_log_level("", &l));
}
