// Nomad's blocking queries: a read with `?index=N` waits until what it reads has moved past
// index N, or until `?wait=` (at most kMaxWait) elapses, then answers as usual; the reply's
// `X-Nomad-Index` is the index to ask with next (docs/nomad-compat.md, "Blocking queries").
// Used by the services and allocation endpoints.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>

#include <httplib.h>

#include "drover/common/result.hpp"

namespace drover::api {

// The longest a blocking query holds its HTTP worker: Nomad's default wait is 5 minutes, but
// each waiting request here is one of the server's few workers.
inline constexpr std::chrono::seconds kMaxWait{60};
// How many blocking queries may wait at once: the rest of the workers stay free for every
// other request. A query beyond it answers at once, as if its wait had elapsed (Nomad's
// clients loop on the index, so an early answer costs them one more request, never a change).
inline constexpr int kMaxWaiting = 8;

struct BlockingQuery {
  std::uint64_t index = 0;
  std::chrono::milliseconds wait = kMaxWait;
};

// nullopt without `?index=`; an Invalid error naming the parameter when `index` is not a
// whole number or `wait` not a duration (`10s`, `500ms`, `2m`; a bare number is seconds).
Result<std::optional<BlockingQuery>> blocking_query(const httplib::Request& req);

// Runs wait(timeout) in one of the kMaxWaiting slots, or not at all when none is free.
void wait_in_slot(std::chrono::milliseconds timeout,
                  const std::function<void(std::chrono::milliseconds)>& wait);

}  // namespace drover::api
