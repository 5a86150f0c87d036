// Nomad-style single-dash flags reach CLI11 as --long flags; short flags stay short.
#include <gtest/gtest.h>

#include "cli/cli.hpp"

namespace drover::cli {
namespace {

using Args = std::vector<std::string>;

TEST(ArgvRewrite, SingleDashLongFlagsBecomeDoubleDash) {
  EXPECT_EQ(rewrite_single_dash({"job", "run", "-detach", "-address=http://x:1", "job.yaml"}),
            (Args{"job", "run", "--detach", "--address=http://x:1", "job.yaml"}));
  EXPECT_EQ(rewrite_single_dash({"agent", "-dev", "-data-dir", "/tmp/d"}),
            (Args{"agent", "--dev", "--data-dir", "/tmp/d"}));
}

TEST(ArgvRewrite, ShortFlagsAndValuesAreLeftAlone) {
  EXPECT_EQ(rewrite_single_dash({"alloc", "logs", "-f", "-n", "20", "-n5", "-", "-1", "--json"}),
            (Args{"alloc", "logs", "-f", "-n", "20", "-n5", "-", "-1", "--json"}));
}

TEST(ArgvRewrite, NothingAfterDoubleDashIsTouched) {
  EXPECT_EQ(rewrite_single_dash({"-json", "--", "-detach"}), (Args{"--json", "--", "-detach"}));
}

}  // namespace
}  // namespace drover::cli
