// Absolute and relative time formatting for the CLI (see time_format.hpp).
#include "cli/time_format.hpp"

#include <chrono>
#include <ctime>

namespace drover::cli {

namespace {
constexpr std::int64_t kNanosPerSecond = 1'000'000'000;
}

std::string format_unix_nanos(std::int64_t unix_nanos) {
  if (unix_nanos == 0) return "";
  // Floor division so that times before 1970 still land on the right second.
  std::int64_t secs = unix_nanos / kNanosPerSecond;
  if (unix_nanos % kNanosPerSecond < 0) --secs;
  const std::time_t t = static_cast<std::time_t>(secs);
  std::tm tm{};
  if (gmtime_r(&t, &tm) == nullptr) return "";
  char buf[32];
  const std::size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return std::string(buf, n);
}

std::string format_relative(std::int64_t unix_nanos, std::int64_t now_unix_nanos) {
  if (unix_nanos == 0) return "";
  // Round both to the nearest second first, as Nomad does, so "0.6s ago" reads "1s ago".
  auto round_secs = [](std::int64_t ns) {
    return (ns >= 0 ? ns + kNanosPerSecond / 2 : ns - kNanosPerSecond / 2) / kNanosPerSecond;
  };
  std::int64_t diff = round_secs(now_unix_nanos) - round_secs(unix_nanos);
  const char* suffix = " ago";
  if (diff < 0) {
    diff = -diff;
    suffix = " from now";
  }
  const std::int64_t parts[] = {diff / 86400, diff / 3600 % 24, diff / 60 % 60, diff % 60};
  const char units[] = {'d', 'h', 'm', 's'};
  std::string text;
  for (int i = 0; i < 4; ++i) {
    if (parts[i] == 0 && i < 3) continue;
    if (parts[i] == 0 && diff != 0) break;  // "1m", not "1m0s"
    text = std::to_string(parts[i]) + units[i];
    if (i < 3 && parts[i + 1] != 0) text += std::to_string(parts[i + 1]) + units[i + 1];
    break;
  }
  return text + suffix;
}

std::int64_t now_unix_nanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace drover::cli
