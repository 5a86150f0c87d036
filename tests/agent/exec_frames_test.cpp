// Nomad's exec messages (api/exec_frames.hpp): what its CLI and UI send, and what they read.
#include "api/exec_frames.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

using drover::api::ExecClientFrame;
using Kind = ExecClientFrame::Kind;

TEST(ExecFrames, StdinDataIsDecodedFromBase64) {
  auto f = drover::api::parse_exec_client_frame(R"({"stdin":{"data":"ZWNobyBoaQo="}})");
  EXPECT_EQ(f.error, "");
  EXPECT_EQ(f.kind, Kind::Stdin);
  EXPECT_EQ(f.data, "echo hi\n");
}

TEST(ExecFrames, StdinCloseTtySizeAndHeartbeat) {
  EXPECT_EQ(drover::api::parse_exec_client_frame(R"({"stdin":{"close":true}})").kind,
            Kind::StdinClose);
  auto size = drover::api::parse_exec_client_frame(R"({"tty_size":{"height":40,"width":120}})");
  EXPECT_EQ(size.kind, Kind::TtySize);
  EXPECT_EQ(size.height, 40);
  EXPECT_EQ(size.width, 120);
  auto beat = drover::api::parse_exec_client_frame("{}");
  EXPECT_EQ(beat.kind, Kind::Other);
  EXPECT_EQ(beat.error, "");
}

TEST(ExecFrames, MalformedMessagesNameTheField) {
  EXPECT_NE(drover::api::parse_exec_client_frame("not json").error, "");
  EXPECT_NE(drover::api::parse_exec_client_frame(R"({"stdin":{"data":5}})").error.find("stdin.data"),
            std::string::npos);
  EXPECT_NE(drover::api::parse_exec_client_frame(R"({"stdin":{"data":"%%%"}})").error.find("stdin.data"),
            std::string::npos);
  EXPECT_NE(drover::api::parse_exec_client_frame(R"({"tty_size":{"height":-1,"width":80}})")
                .error.find("tty_size"),
            std::string::npos);
}

TEST(ExecFrames, HandshakeCarriesTheToken) {
  auto h = drover::api::parse_exec_handshake(R"({"version":1,"auth_token":"s3cr3t"})");
  EXPECT_EQ(h.error, "");
  EXPECT_EQ(h.token, "s3cr3t");
  EXPECT_NE(drover::api::parse_exec_handshake(R"({"version":2})").error, "");
  EXPECT_NE(drover::api::parse_exec_handshake(R"({"stdin":{"data":""}})").error, "");
}

TEST(ExecFrames, OutputAndExitAreNomadsShapes) {
  auto out = nlohmann::json::parse(drover::api::exec_output_frame(false, "hi\n"));
  EXPECT_EQ(out, nlohmann::json::parse(R"({"stdout":{"data":"aGkK"}})"));
  auto err = nlohmann::json::parse(drover::api::exec_output_frame(true, std::string("\xff\x00", 2)));
  EXPECT_EQ(err["stderr"]["data"], "/wA=");
  EXPECT_EQ(nlohmann::json::parse(drover::api::exec_exited_frame(3)),
            nlohmann::json::parse(R"({"exited":true,"result":{"exit_code":3}})"));
}
