// The API's refusal of cross-origin browser writes (api/origin_check.hpp), the token rules of
// the web UI's files (api/acl.hpp), and the UI's content types (api/ui_endpoint.hpp).
#include "api/origin_check.hpp"

#include <gtest/gtest.h>

#include "api/acl.hpp"
#include "api/ui_endpoint.hpp"

using drover::api::cross_origin_refusal;

TEST(OriginCheck, AnotherSitesPageCannotSubmitAJob) {
  auto why = cross_origin_refusal("POST", "http://evil.example", "127.0.0.1:4646", "");
  EXPECT_NE(why.find("http://evil.example"), std::string::npos) << why;
  EXPECT_FALSE(cross_origin_refusal("DELETE", "", "127.0.0.1:4646", "cross-site").empty());
  EXPECT_FALSE(cross_origin_refusal("POST", "null", "127.0.0.1:4646", "").empty());
  // Another port on the same host is another origin.
  EXPECT_FALSE(cross_origin_refusal("POST", "http://127.0.0.1:8080", "127.0.0.1:4646", "").empty());
}

TEST(OriginCheck, TheAgentsOwnPageAndTheCliMayWrite) {
  EXPECT_EQ(cross_origin_refusal("POST", "http://127.0.0.1:4646", "127.0.0.1:4646", "same-origin"),
            "");
  EXPECT_EQ(cross_origin_refusal("PUT", "", "127.0.0.1:4646", ""), "");  // the CLI sends no Origin
}

TEST(OriginCheck, ReadsAreLeftToCors) {
  EXPECT_EQ(cross_origin_refusal("GET", "http://evil.example", "127.0.0.1:4646", "cross-site"), "");
}

TEST(UiFiles, NeedNoTokenButTheApiStillDoes) {
  using drover::api::required_policy;
  EXPECT_FALSE(required_policy("GET", "/ui/").has_value());
  EXPECT_FALSE(required_policy("GET", "/ui/assets/index-abc.js").has_value());
  EXPECT_FALSE(required_policy("GET", "/").has_value());
  EXPECT_TRUE(required_policy("POST", "/ui/x").has_value());
  EXPECT_TRUE(required_policy("GET", "/v1/jobs").has_value());
  EXPECT_TRUE(required_policy("GET", "/uix").has_value());
}

TEST(UiFiles, ContentTypesByExtension) {
  EXPECT_EQ(drover::api::ui_content_type("index.html"), "text/html; charset=utf-8");
  EXPECT_EQ(drover::api::ui_content_type("assets/a.js"), "text/javascript; charset=utf-8");
  EXPECT_EQ(drover::api::ui_content_type("assets/a.css"), "text/css; charset=utf-8");
  EXPECT_EQ(drover::api::ui_content_type("x.bin"), "application/octet-stream");
}
