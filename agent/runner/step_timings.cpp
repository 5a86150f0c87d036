#include "runner/step_timings.hpp"

#include <spdlog/spdlog.h>

namespace drover::runner {

void StepTimings::add(const std::string& step, std::chrono::nanoseconds took) {
  std::lock_guard lock(mu_);
  auto& s = steps_[step];
  if (s.name.empty()) s.name = step;
  ++s.count;
  s.total += took;
}

std::vector<StepTimings::Step> StepTimings::snapshot() const {
  std::lock_guard lock(mu_);
  std::vector<Step> out;
  out.reserve(steps_.size());
  for (const auto& [name, s] : steps_) out.push_back(s);
  return out;
}

StepTimer::StepTimer(StepTimings* timings, std::string step, const std::string& who)
    : timings_(timings), step_(std::move(step)), who_(who), t0_(std::chrono::steady_clock::now()) {}

void StepTimer::finish() {
  if (done_) return;
  done_ = true;
  auto took = std::chrono::steady_clock::now() - t0_;
  if (timings_) timings_->add(step_, took);
  spdlog::trace("{}: {} took {:.3f} ms", who_, step_,
                std::chrono::duration<double, std::milli>(took).count());
}

}  // namespace drover::runner
