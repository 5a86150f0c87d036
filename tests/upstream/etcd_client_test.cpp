// The etcd client's pure helpers: prefix range ends (base64 is common/'s: tests/agent/text_test.cpp).
#include "upstream/etcd_client.hpp"

#include <gtest/gtest.h>

using drover::upstream::EtcdClient;

TEST(EtcdClient, PrefixEndIsJustPastThePrefix) {
  EXPECT_EQ(EtcdClient::prefix_end("/drover/allocs/n1/"), "/drover/allocs/n10");
  EXPECT_EQ(EtcdClient::prefix_end(std::string("a\xff", 2)), "b");
}
