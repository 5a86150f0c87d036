// What a standalone agent says at submit about a job's cores on a NUMA host (runner/
// node_resources.hpp, docs/cgroups.md "NUMA"): a task whose cores must be on one NUMA node is
// refused when no node has them free, even when enough cores are free in all.
#include "runner/node_resources.hpp"

#include <gtest/gtest.h>

#include "drover/cgroups/cpuset_pool.hpp"
#include "jobspec/parse.hpp"
#include "state/state_store.hpp"
#include "test_files.hpp"

using namespace drover;

namespace {

jobspec::Job numa_job(int a, int b) {
  auto parsed = jobspec::parse_job(
      "job:\n  id: n\n  groups:\n    - name: g\n      tasks:\n"
      "        - name: small\n          driver: raw_exec\n          config: {command: /bin/true}\n"
      "          resources: {cores: " + std::to_string(a) + ", memory: 32, numa: {affinity: require}}\n"
      "        - name: big\n          driver: raw_exec\n          config: {command: /bin/true}\n"
      "          resources: {cores: " + std::to_string(b) + ", memory: 32, numa: {affinity: require}}\n");
  EXPECT_TRUE(parsed.job) << jobspec::format_problems(parsed.problems);
  return *parsed.job;
}

}  // namespace

TEST(NodeResources, RequiredNumaCoresMustEachFindOneNode) {
  const auto dir = test_support::scratch_dir("drover-node-resources");
  auto store = state::StateStore::open(dir);
  ASSERT_TRUE(store.ok()) << store.message();
  // Two NUMA nodes of four cores; another task holds three of node 0 already.
  cgroups::CpusetPool pool({0, 1, 2, 3, 4, 5, 6, 7});
  pool.set_numa_nodes({{0, {0, 1, 2, 3}}, {1, {4, 5, 6, 7}}});
  ASSERT_TRUE(pool.reserve("other.t", 3, cgroups::NumaAffinity::Require).ok());
  runner::NodeResources resources(nullptr, std::move(pool), store->get(), {64000, 64000, 4096});

  // 1 + 4 fit: the four on node 1, the one on node 0.
  const auto fits = numa_job(1, 4);
  EXPECT_TRUE(resources.fits({{&fits.groups[0], 1}}, {}).ok());
  // 2 + 3: five free in all, but node 0 has one: the three take node 1, the two find none.
  const auto short_job = numa_job(2, 3);
  auto st = resources.fits({{&short_job.groups[0], 1}}, {});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.code(), Errc::Conflict);
  EXPECT_NE(st.message().find("cores: no NUMA node has 2 free cores for task \"small\" (numa "
                              "affinity require): the most free on one node is 1 (node 1), 2 free "
                              "in all, with task \"big\"'s 3 placed first"),
            std::string::npos)
      << st.message();
  std::filesystem::remove_all(dir);
}
