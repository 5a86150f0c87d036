// The API's Host allow-list against DNS rebinding (api/host_check.hpp).
#include "api/host_check.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

using drover::api::allowed_host_names;
using drover::api::host_refusal;

TEST(HostCheck, ARebindingNameIsRefusedWithHowToAllowIt) {
  auto allowed = allowed_host_names("node-1", "127.0.0.1", {});
  auto why = host_refusal("evil.example:4646", allowed);
  EXPECT_NE(why.find("evil.example"), std::string::npos) << why;
  EXPECT_NE(why.find("http_allowed_hosts"), std::string::npos) << why;
  EXPECT_FALSE(host_refusal("EVIL.example.", allowed).empty());
  // A name that only starts like an allowed one.
  EXPECT_FALSE(host_refusal("localhost.evil.example:4646", allowed).empty());
}

TEST(HostCheck, AddressesLocalhostAndTheMachinesOwnNamesAreAnswered) {
  auto allowed = allowed_host_names("node-1", "127.0.0.1", {"drover.example.com"});
  for (const char* ok :
       {"127.0.0.1:4646", "10.1.2.3", "[::1]:4646", "::1", "localhost:4646", "LOCALHOST",
        "ui.localhost:4646", "node-1:4646", "drover.example.com", "drover.example.com.:4646", ""})
    EXPECT_EQ(host_refusal(ok, allowed), "") << ok;
  char name[256] = {};
  ASSERT_EQ(gethostname(name, sizeof name - 1), 0);
  EXPECT_EQ(host_refusal(std::string(name) + ":4646", allowed), "") << name;
}
