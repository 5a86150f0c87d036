// A snapshot's file (server/snapshot_file.hpp): what is written reads back the same, and a
// file that is damaged, of another version, or holds a key a snapshot never holds (a node's
// leased key, the leader's, one that climbs out of the prefix) is refused saying why.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "drover/common/gzip.hpp"
#include "server/snapshot_file.hpp"

using drover::server::Snapshot;
using nlohmann::json;

namespace {

std::string file_of(const json& doc) { return drover::gzip(doc.dump()); }

// A file's document whose Keys are `keys`, each [key, value] (or malformed as given).
json doc(std::vector<json> keys) {
  return {{"Format", "drover-snapshot"}, {"Version", 1}, {"Prefix", "/drover"}, {"Revision", 7}, {"Keys", keys}};
}
json kv(const std::string& k, const std::string& v) { return json::array({k, v}); }

}  // namespace

TEST(SnapshotFile, WhatIsWrittenReadsBackTheSame) {
  Snapshot s;
  s.prefix = "/drover";
  s.server = "s1";
  s.revision = 42;
  s.taken_at_ns = 1'700'000'000'000'000'000;
  s.keys = {{"jobs/default/web", "{\"Job\":1}"}, {"acl/tokens/abc", "{}"}, {"acl/tokens/def", "{}"},
            {"evals/e1", std::string("bytes \xff\x00 kept", 13)}};
  auto back = drover::server::read_snapshot_file(drover::server::snapshot_file(s));
  ASSERT_TRUE(back) << back.message();
  EXPECT_EQ(back->revision, 42);
  EXPECT_EQ(back->server, "s1");
  EXPECT_EQ(back->taken_at_ns, s.taken_at_ns);
  ASSERT_EQ(back->keys.size(), 4u);
  EXPECT_EQ(back->keys[0], s.keys[0]);
  auto counts = drover::server::snapshot_counts(back.value());
  EXPECT_EQ(counts["jobs"], 1);
  EXPECT_EQ(counts["acl/tokens"], 2);
  EXPECT_EQ(counts["evals"], 1);
}

TEST(SnapshotFile, DamagedForeignOrOverreachingFilesAreRefusedSayingWhy) {
  auto refusal = [](const std::string& bytes) {
    auto r = drover::server::read_snapshot_file(bytes);
    return r ? std::string("accepted") : r.message();
  };
  EXPECT_NE(refusal("plain text").find("not a drover snapshot: gunzip"), std::string::npos);
  std::string cut = file_of(doc({}));
  EXPECT_NE(refusal(cut.substr(0, cut.size() - 6)).find("not a drover snapshot"), std::string::npos);
  EXPECT_NE(refusal(file_of({{"Format", "nomad"}})).find("no \"Format\": \"drover-snapshot\""), std::string::npos);
  json v2 = doc({});
  v2["Version"] = 2;
  EXPECT_NE(refusal(file_of(v2)).find("a snapshot of version 2"), std::string::npos);
  for (const char* key : {"nodes/n1", "leader", "servers/s1", "restoring", "../etc/x", "/drover/jobs/x", ""})
    EXPECT_NE(refusal(file_of(doc({kv(key, "{}")}))).find("is not a key a snapshot holds"), std::string::npos) << key;
  EXPECT_NE(refusal(file_of(doc({kv("jobs/a", "1"), kv("jobs/a", "2")}))).find("\"jobs/a\" twice"), std::string::npos);
  EXPECT_NE(refusal(file_of(doc({json::array({"jobs/a"})}))).find("not [key, value]"), std::string::npos);
}
