// The API client keeps ids inside their path segment and reports the agent's errors plainly.
#include "cli/api_client.hpp"

#include <gtest/gtest.h>

namespace drover::cli {
namespace {

TEST(ApiClient, UrlEscapeKeepsIdsInOneSegment) {
  EXPECT_EQ(url_escape("abcd-12_3.x~"), "abcd-12_3.x~");
  EXPECT_EQ(url_escape("../etc/passwd"), "..%2Fetc%2Fpasswd");
  EXPECT_EQ(url_escape(".."), "%2E%2E");
  EXPECT_EQ(url_escape("a b&type=stderr"), "a%20b%26type%3Dstderr");
}

TEST(ApiClient, NonJsonErrorBodySaysTheStatusAndFirstLine) {
  EXPECT_EQ(describe_api_error({502, "bad gateway\nmore"}),
            "unexpected response code 502: bad gateway");
  EXPECT_EQ(describe_api_error({404, ""}), "unexpected response code 404");
}

TEST(ApiClient, ProblemsWithoutPathArePrintedAlone) {
  EXPECT_EQ(describe_api_error({400, R"({"error":"bad","problems":[{"message":"no tasks"}]})"}),
            "bad\n    * no tasks");
}

TEST(ApiClient, AddressWithoutSchemeMeansHttp) {
  EXPECT_EQ(ApiClient("127.0.0.1:4646/", "").address(), "http://127.0.0.1:4646");
}

}  // namespace
}  // namespace drover::cli
