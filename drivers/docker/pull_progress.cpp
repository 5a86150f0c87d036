// PullProgress (see pull_progress.hpp). dockerd's per-layer statuses: "Pulling fs layer",
// "Waiting", "Downloading" (progressDetail {current, total}), "Verifying Checksum",
// "Download complete", "Extracting" (its progressDetail counts extraction, not download),
// "Pull complete", "Already exists" (nothing to download).
#include "pull_progress.hpp"

#include <cstdio>
#include <nlohmann/json.hpp>

namespace drover::docker {

std::string human_bytes(long long bytes) {
  static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(bytes < 0 ? 0 : bytes);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  char out[32];
  if (u == 0)
    std::snprintf(out, sizeof out, "%lld B", bytes < 0 ? 0 : bytes);
  else
    std::snprintf(out, sizeof out, "%.1f %s", v, units[u]);
  return out;
}

PullProgress::PullProgress(std::string image, std::chrono::milliseconds interval,
                           Clock::time_point start)
    : image_(std::move(image)), interval_(interval), last_report_(start) {}

void PullProgress::feed(const char* data, std::size_t len) {
  partial_.append(data, len);
  std::size_t from = 0, nl;
  while ((nl = partial_.find('\n', from)) != std::string::npos) {
    line(partial_.substr(from, nl - from));
    from = nl + 1;
  }
  partial_.erase(0, from);
  // A stream that never sends a newline must not grow without bound.
  if (partial_.size() > (1u << 20)) partial_.clear();
}

void PullProgress::line(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object()) return;
  if (auto e = j.find("error"); e != j.end() && error_.empty()) {
    error_ = e->is_string() ? e->get<std::string>() : e->dump();
    return;
  }
  auto id = j.find("id");
  auto status = j.find("status");
  if (id == j.end() || !id->is_string() || status == j.end() || !status->is_string()) return;
  const std::string& s = status->get_ref<const std::string&>();
  if (s == "Already exists") {
    layers_.erase(id->get<std::string>());  // nothing of it comes down
    return;
  }
  if (s.rfind("Pulling from", 0) == 0) return;  // the id of this line is the tag, not a layer
  Layer& l = layers_[id->get<std::string>()];
  if (s == "Downloading") {
    auto d = j.find("progressDetail");
    if (d != j.end() && d->is_object()) {
      l.current = d->value("current", l.current);
      l.total = d->value("total", l.total);
    }
  } else if (s == "Download complete" || s == "Pull complete") {
    if (l.total > 0) l.current = l.total;
    l.done = true;
  }
}

long long PullProgress::downloaded_bytes() const {
  long long n = 0;
  for (const auto& [_, l] : layers_) n += l.current;
  return n;
}

long long PullProgress::total_bytes() const {
  long long n = 0;
  for (const auto& [_, l] : layers_) n += l.total;
  return n;
}

std::optional<std::string> PullProgress::report_due(Clock::time_point now) {
  if (now - last_report_ < interval_) return std::nullopt;
  const long long got = downloaded_bytes();
  if (got == last_reported_bytes_) return std::nullopt;
  last_report_ = now;
  last_reported_bytes_ = got;
  return "Image " + image_ + ": " + human_bytes(got) + "/" + human_bytes(total_bytes()) + " pulled";
}

std::string PullProgress::done_message() const {
  return "Image " + image_ + " pulled (" + human_bytes(downloaded_bytes()) + " downloaded)";
}

}  // namespace drover::docker
