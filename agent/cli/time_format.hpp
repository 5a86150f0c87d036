// Times as the CLI shows them: absolute UTC ("2026-11-25T18:55:57Z") for events and submit
// dates, relative ("12s ago") for an alloc's Created/Modified, as Nomad's CLI does.
#pragma once

#include <cstdint>
#include <string>

namespace drover::cli {

// Unix nanoseconds to RFC 3339 UTC with second precision. 0 (never set) gives "".
std::string format_unix_nanos(std::int64_t unix_nanos);

// How long before `now_unix_nanos` the time `unix_nanos` was, in its largest unit and the next
// one when non-zero: "0s ago", "12s ago", "3m2s ago", "1h ago", "2d3h ago"; times ahead of
// `now` say "from now". 0 (never set) gives "".
std::string format_relative(std::int64_t unix_nanos, std::int64_t now_unix_nanos);

// The wall clock in unix nanoseconds, for format_relative.
std::int64_t now_unix_nanos();

}  // namespace drover::cli
