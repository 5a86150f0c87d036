// Leader election on an etcd lease and a create-if-absent transaction; see leader_election.hpp.
#include "server/leader_election.hpp"

#include <spdlog/spdlog.h>

#include <thread>

#include "drover/common/encoding.hpp"
#include "upstream/etcd_txn.hpp"

namespace drover::server {

using nlohmann::json;

LeaderElection::LeaderElection(upstream::EtcdConfig cfg, Keys keys, std::string name,
                               std::string me, std::string member, std::chrono::seconds ttl)
    : etcd_(std::move(cfg)),
      keys_(std::move(keys)),
      name_(std::move(name)),
      me_(std::move(me)),
      member_(std::move(member)),
      ttl_(ttl) {}

bool LeaderElection::is_leader() const {
  std::lock_guard lock(mu_);
  return leader_;
}

std::string LeaderElection::leader_value() const {
  std::lock_guard lock(mu_);
  return leader_value_;
}

void LeaderElection::set(bool leader, std::string value) {
  std::lock_guard lock(mu_);
  if (leader != leader_)
    spdlog::info("server {}: {}", name_, leader ? "now the leader" : "no longer the leader");
  leader_ = leader;
  leader_value_ = std::move(value);
}

bool LeaderElection::campaign() {
  json req = {{"compare", json::array({upstream::txn::absent(keys_.leader())})},
              {"success", json::array({upstream::txn::put(keys_.leader(), me_, lease_)})},
              {"failure", json::array({upstream::txn::get(keys_.leader())})}};
  auto r = etcd_.txn(req);
  if (!r) {
    spdlog::warn("server {}: leader election: {}", name_, r.message());
    set(false, "");
    return false;
  }
  if (r.value().value("succeeded", false)) {
    set(true, me_);
    return true;
  }
  std::string current;
  for (const auto& resp : r.value().value("responses", json::array())) {
    const auto& kvs = resp.value("response_range", json::object()).value("kvs", json::array());
    if (!kvs.empty()) current = base64_decode(kvs[0].value("value", "")).value_or("");
  }
  set(current == me_, current);
  return current == me_;
}

void LeaderElection::run(std::stop_token stop) {
  auto pause = [&](std::chrono::milliseconds d) {
    std::mutex m;
    std::condition_variable_any cv;
    std::unique_lock lock(m);
    cv.wait_for(lock, stop, d, [] { return false; });
  };
  // Renew a third of the TTL; followers try to take over as often, so a vacancy lasts at
  // most about TTL + TTL/3 after the leader's last renewal.
  const auto period = std::chrono::duration_cast<std::chrono::milliseconds>(ttl_) / 3;
  while (!stop.stop_requested()) {
    if (lease_ == 0) {
      auto l = etcd_.lease_grant(ttl_);
      if (!l) {
        spdlog::warn("server {}: lease grant: {}", name_, l.message());
        set(false, "");
        pause(std::chrono::seconds(1));
        continue;
      }
      lease_ = l.value();
      if (auto st = etcd_.put(keys_.server(name_), member_, lease_); !st)
        spdlog::warn("server {}: member key: {}", name_, st.message());
    }
    campaign();
    pause(period);
    if (stop.stop_requested()) break;
    if (auto ka = etcd_.lease_keepalive(lease_); !ka) {
      spdlog::warn("server {}: lease {} lost: {}", name_, lease_, ka.message());
      set(false, "");
      lease_ = 0;
    }
  }
  if (lease_ != 0) (void)etcd_.lease_revoke(lease_);
  set(false, "");
}

json leader_term(const Keys& keys, const std::string& me, int64_t created) {
  return json::array(
      {upstream::txn::value_is(keys.leader(), me), upstream::txn::created_at(keys.leader(), created)});
}

}  // namespace drover::server
