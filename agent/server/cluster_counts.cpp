// What /v1/metrics counts of the cluster; see cluster_counts.hpp.
#include "server/cluster_counts.hpp"

#include "server/node_records.hpp"

namespace drover::server {

ClusterCounts count_cluster(const ClusterState& st) {
  ClusterCounts c;
  // Every label value present even at zero, so a dashboard's series do not come and go.
  c.jobs = {{"pending", 0}, {"running", 0}, {"dead", 0}};
  for (const auto& [key, rec] : st.jobs) c.jobs[job_status(st, key, rec)]++;
  c.allocs = {{"pending", 0}, {"running", 0}, {"complete", 0}, {"failed", 0}, {"lost", 0}, {"unknown", 0}};
  for (const auto& [id, a] : st.allocs) c.allocs[a.client_status()]++;
  // A node is up while its key lives on its lease: the ones etcd holds are ready; a node with
  // a record and no key is down or disconnected (node_records.hpp). By the operator's say,
  // eligible or not.
  c.nodes = {{{"ready", "eligible"}, 0},   {{"ready", "ineligible"}, 0},
             {{"down", "eligible"}, 0},    {{"down", "ineligible"}, 0},
             {{"disconnected", "eligible"}, 0}, {{"disconnected", "ineligible"}, 0}};
  auto eligible = [&st](const std::string& id) {
    auto ctl = st.controls.find(id);
    return ctl == st.controls.end() || ctl->second.value("Eligibility", "eligible") == "eligible";
  };
  for (const auto& [id, node] : st.nodes)
    c.nodes[{"ready", eligible(id) ? "eligible" : "ineligible"}]++;
  for (const auto& [id, down] : st.down_nodes)
    c.nodes[{down_status(st, id), eligible(id) ? "eligible" : "ineligible"}]++;
  for (const auto& [id, e] : st.evals) c.evals[e.value("Status", "pending")]++;
  return c;
}

}  // namespace drover::server
