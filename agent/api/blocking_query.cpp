// Blocking queries; see blocking_query.hpp.
#include "api/blocking_query.hpp"

#include <algorithm>
#include <atomic>
#include <string>

namespace drover::api {

namespace {

std::atomic<int> waiting{0};

}  // namespace

Result<std::optional<BlockingQuery>> blocking_query(const httplib::Request& req) {
  if (!req.has_param("index")) return std::optional<BlockingQuery>{};
  BlockingQuery q;
  const std::string index = req.get_param_value("index");
  std::size_t used = 0;
  try {
    q.index = std::stoull(index, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (index.empty() || used != index.size() || index[0] == '-')
    return make_error("index: \"" + index.substr(0, 64) + "\" is not an index (a whole number)",
                      Errc::Invalid);
  if (req.has_param("wait")) {
    const std::string w = req.get_param_value("wait");
    double v = -1;
    used = 0;
    try {
      v = std::stod(w, &used);
    } catch (const std::exception&) {
      v = -1;
    }
    const std::string unit = w.substr(used);
    const double per_unit = unit == "ms" ? 1 : unit == "s" || unit.empty() ? 1e3 : unit == "m" ? 6e4 : -1;
    const double ms = v * per_unit;
    if (!(v >= 0) || per_unit < 0 || used == 0)  // NaN too
      return make_error("wait: \"" + w.substr(0, 64) + "\" is not a duration (such as 10s, 500ms, 2m)",
                        Errc::Invalid);
    q.wait = std::min<std::chrono::milliseconds>(kMaxWait, std::chrono::milliseconds(
                                                               static_cast<int64_t>(std::min(ms, 1e12))));
  }
  return std::optional<BlockingQuery>{q};
}

void wait_in_slot(std::chrono::milliseconds timeout,
                  const std::function<void(std::chrono::milliseconds)>& wait) {
  if (waiting.fetch_add(1) >= kMaxWaiting) {
    waiting.fetch_sub(1);
    return;
  }
  struct Release {
    ~Release() { waiting.fetch_sub(1); }
  } release;
  wait(timeout);
}

}  // namespace drover::api
