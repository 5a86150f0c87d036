// A job's spec held as text (server/job_doc.hpp): what it shows without parsing, its parse
// shared while held, and a record written back byte for byte.
#include "server/job_doc.hpp"

#include <gtest/gtest.h>

using drover::server::JobDoc;
using drover::server::JobDocShelf;
using drover::server::JobRecord;
using nlohmann::json;

namespace {

json spec() {
  return {{"ID", "web"},
          {"Name", "web"},
          {"Type", "batch"},
          {"Priority", 70},
          {"ParentID", "cron"},
          {"Periodic", nullptr},
          {"ParameterizedJob", {{"Payload", "optional"}}},
          {"Dispatched", true},
          {"TaskGroups",
           {{{"Name", "g"}, {"Migrate", {{"MaxParallel", 3}}}},
            {{"Name", "h"}, {"Migrate", nullptr}}}}};
}

}  // namespace

TEST(JobDoc, WhatAListAndAPassAskIsReadWithoutParsing) {
  const auto s = JobDoc::of(spec()).summary();
  EXPECT_TRUE(s.is_object);
  EXPECT_EQ(s.name, "web");
  EXPECT_EQ(s.type, "batch");
  EXPECT_EQ(s.priority, 70);
  EXPECT_EQ(s.parent_id, "cron");
  EXPECT_FALSE(s.periodic) << "a null Periodic is none";
  EXPECT_TRUE(s.parameterized);
  EXPECT_TRUE(s.dispatched);
  EXPECT_EQ(s.migrate_max_parallel, (std::map<std::string, int>{{"g", 3}}));
  // Nomad's defaults for what a document leaves out.
  const auto bare = JobDoc::of(json::object()).summary();
  EXPECT_EQ(bare.type, "service");
  EXPECT_EQ(bare.priority, 50);
  EXPECT_FALSE(JobDoc().summary().is_object) << "none";
}

TEST(JobDoc, ItsParseIsSharedWhileHeldAndMadeAgainAfter) {
  const JobDoc d = JobDoc::of(spec());
  auto first = d.parsed();
  EXPECT_EQ(*first, spec());
  EXPECT_EQ(d.parsed().get(), first.get()) << "one document while one holder keeps it";
  const JobDoc copy = d;
  EXPECT_EQ(copy.parsed().get(), first.get());
  std::weak_ptr<const json> gone = first;
  first.reset();
  EXPECT_TRUE(gone.expired()) << "the doc keeps only its text";
  EXPECT_EQ(*d.parsed(), spec());
  EXPECT_TRUE(JobDoc().parsed()->is_null());
}

TEST(JobDoc, TheShelfHandsTheSameTextOutOnceAndForgetsWhatNoOneHolds) {
  JobDocShelf shelf;
  JobDoc a = shelf.share("default/web", 0, JobDoc::of(spec()));
  JobDoc b = shelf.share("default/web", 0, JobDoc::of(spec()));
  EXPECT_TRUE(a.shares(b));
  json other = spec();
  other["Priority"] = 10;
  JobDoc c = shelf.share("default/web", 0, JobDoc::of(other));
  EXPECT_FALSE(c.shares(a)) << "another text under the same version is its own";
  EXPECT_TRUE(shelf.find("default/web", 0, c.text()).shares(c));
  EXPECT_FALSE(shelf.find("default/web", 0, a.text())) << "the shelf holds the latest only";
  EXPECT_FALSE(shelf.find("default/web", 1, c.text()));
  c = JobDoc();
  EXPECT_FALSE(shelf.find("default/web", 0, JobDoc::of(other).text())) << "no holder left";
}

TEST(JobRecord, ItsTextIsTheRecordAsWrittenAndItsJsonTheWholeRecord) {
  const json rec = {{"ID", "web"},         {"Namespace", "default"}, {"Version", 2},
                    {"Stop", false},       {"Stable", true},         {"SubmitTime", 17},
                    {"Job", spec()},       {"Submission", {{"Source", "x"}}}};
  const JobRecord r(rec);
  EXPECT_FALSE(r.head.contains("Job"));
  EXPECT_EQ(r.version(), 2);
  EXPECT_FALSE(r.stopped());
  EXPECT_EQ(r.text(), rec.dump()) << "byte for byte: a version key is matched by its text";
  EXPECT_EQ(r.as_json(), rec);
  const JobRecord bare(json{{"ID", "x"}, {"Version", 0}});
  EXPECT_FALSE(bare.job);
  EXPECT_EQ(bare.text(), json({{"ID", "x"}, {"Version", 0}}).dump());
}
