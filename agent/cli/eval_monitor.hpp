// Following a server's evaluation, as `nomad job run` monitors one: a server answers a
// register, scale, revert or dispatch once the job and its evaluation are stored (Nomad's
// API), before the leader has placed anything; the CLI then waits for the evaluation.
#pragma once

#include <iosfwd>
#include <nlohmann/json.hpp>

#include "cli/command_context.hpp"

namespace drover::cli {

// When `answer` names an evaluation but no allocations (a server's answer; an agent places
// at once and lists them), waits until the leader has evaluated it and fills in
// "EvalStatus" (complete, blocked, ...), "EvalStatusDescription" (why it is blocked) and
// "AllocIDs" (what it placed). Gives up after
// `wait_s` seconds with the status "pending", telling the user how to follow it.
void await_evaluation(Context& ctx, nlohmann::json& answer, int wait_s = 60);

// An evaluation's FailedTGAllocs as Nomad's CLI prints them: per group how many allocs could
// not be placed, and why (the dimensions exhausted, the constraints that filtered nodes out).
void print_failed_placements(std::ostream& out, const nlohmann::json& failed_tg_allocs);

}  // namespace drover::cli
