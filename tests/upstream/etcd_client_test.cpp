// The etcd client's pure helpers: base64 both ways and prefix range ends.
#include "upstream/etcd_client.hpp"

#include <gtest/gtest.h>

using drover::upstream::EtcdClient;

TEST(EtcdClient, Base64RoundTripsEveryLength) {
  EXPECT_EQ(EtcdClient::base64_encode("/drover/nodes/x"), "L2Ryb3Zlci9ub2Rlcy94");
  for (const std::string& s :
       std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3)})
    EXPECT_EQ(EtcdClient::base64_decode(EtcdClient::base64_encode(s)), s);
}

TEST(EtcdClient, PrefixEndIsJustPastThePrefix) {
  EXPECT_EQ(EtcdClient::prefix_end("/drover/allocs/n1/"), "/drover/allocs/n10");
  EXPECT_EQ(EtcdClient::prefix_end(std::string("a\xff", 2)), "b");
}
