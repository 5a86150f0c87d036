// Temp files a test run made, removed when the run ends with no failed test: CI's machines
// run the suite again and again, and /tmp held 50,000 agent dirs before this (each slowing
// every mkdir there). A failed test's files stay, to be read.
#pragma once

#include <string>

namespace drover::testing {

// `path` (a file or a dir) goes when the test program ends, unless a test failed or a mount
// is still below it.
void remove_after_passing_run(const std::string& path);

}  // namespace drover::testing
