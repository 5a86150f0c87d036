// What the server's API files share; see api_support.hpp.
#include "server/api_support.hpp"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <mutex>
#include <optional>
#include <unordered_map>

#include "api/json_reply.hpp"
#include "api/tls_transport.hpp"
#include "drover/common/names.hpp"
#include "server/leader_election.hpp"
#include "state/alloc.hpp"
#include "upstream/etcd_client.hpp"

namespace drover::server {

using api::reply_error;
using nlohmann::json;

void post_and_put(httplib::Server& s, const std::string& pattern, const Handler& h) {
  s.Post(pattern, h);
  s.Put(pattern, h);
}

Result<std::shared_ptr<const ClusterState>> read_state(const ServerApiContext& ctx) {
  upstream::EtcdClient etcd(ctx.etcd);
  if (ctx.leader_snapshot && ctx.election && ctx.election->is_leader()) {
    // etcd's revision now (one key's range: its header), which the view must have got to.
    if (auto now = etcd.range_prefix(ctx.keys.leader(), 1))
      if (auto snap = ctx.leader_snapshot(now.value().revision)) return snap;
  }
  auto r = etcd.range_prefix(ctx.keys.all());
  if (!r) return r.error();
  auto st = std::make_shared<ClusterState>(read_cluster_state(r.value(), ctx.keys));
  st->use_scheduler_defaults(ctx.scheduler_defaults);
  return std::shared_ptr<const ClusterState>(std::move(st));
}

Result<AllocKey> find_alloc_key(const ServerApiContext& ctx, const std::string& id) {
  upstream::EtcdClient etcd(ctx.etcd);
  const std::string base = ctx.keys.allocs();
  auto keys = etcd.keys(base);
  if (!keys) return make_error(keys.message(), Errc::Internal);
  AllocKey a;
  int matches = 0;
  for (const auto& k : keys.value()) {
    const auto rest = std::string_view(k).substr(base.size());
    const auto slash = rest.rfind('/');
    if (slash == std::string_view::npos) continue;
    const auto alloc_id = rest.substr(slash + 1);
    if (alloc_id.rfind(id, 0) != 0) continue;
    a.id = alloc_id;
    a.node_id = rest.substr(0, slash);
    a.key = k;
    ++matches;
    if (alloc_id == id) {
      matches = 1;
      break;
    }
  }
  if (matches == 0) return make_error("alloc \"" + id + "\" not found", Errc::NotFound);
  if (matches > 1)
    return make_error("alloc prefix \"" + id + "\" matches " + std::to_string(matches),
                      Errc::Ambiguous);
  return a;
}

Result<AllocView> read_alloc(const ServerApiContext& ctx, const std::string& id) {
  auto found = find_alloc_key(ctx, id);
  if (!found) return found.error();
  AllocView a;
  a.id = found->id;
  a.node_id = found->node_id;
  a.key = found->key;
  upstream::EtcdClient etcd(ctx.etcd);
  auto value = etcd.get(a.key);
  if (!value) return make_error(value.message(), Errc::Internal);
  if (!value.value()) return make_error("alloc \"" + id + "\" not found", Errc::NotFound);
  auto j = nlohmann::json::parse(*value.value(), nullptr, false);
  if (!j.is_object()) return make_error("alloc " + a.id + ": its key is not a JSON object", Errc::Internal);
  a.take(std::move(j));
  auto status = etcd.get(ctx.keys.status() + a.node_id + "/" + a.id);
  if (!status) return make_error(status.message(), Errc::Internal);
  if (status.value()) {
    auto sj = nlohmann::json::parse(*status.value(), nullptr, false);
    if (sj.is_object()) a.status = std::move(sj);
  }
  return a;
}

// The request's ?namespace= ("default" when absent); checked before any route runs
// (register_server_routes), so it is a name, or "*" on a list.
std::string ns_of(const httplib::Request& req) {
  auto ns = req.get_param_value("namespace");
  return ns.empty() ? kDefaultNamespace : ns;
}

std::vector<std::pair<std::string, std::string>> token_headers(const httplib::Request& req) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const char* h : {"X-Nomad-Token", "Authorization"})
    if (req.has_header(h)) out.emplace_back(h, req.get_header_value(h));
  return out;
}

// The body of a POST as a JSON object, or a 400 naming why not.
std::optional<json> body_object(const httplib::Request& req, httplib::Response& res) {
  json body = json::parse(req.body.empty() ? "{}" : req.body, nullptr, false);
  if (body.is_object()) return body;
  reply_error(res, 400, "body: must be a JSON object");
  return std::nullopt;
}

// The leader's HTTP address: as this server's election last saw it, or read from etcd when it
// has not seen one yet (a server that just started, between two of its tries).
std::string leader_addr(const ServerApiContext& ctx, std::string* why) {
  json leader = json::parse(ctx.election->leader_value(), nullptr, false);
  if (!leader.is_object()) {
    upstream::EtcdClient etcd(ctx.etcd);
    auto v = etcd.get(ctx.keys.leader());
    if (!v && why) *why = v.message();
    if (v && v.value()) leader = json::parse(*v.value(), nullptr, false);
  }
  std::string addr = leader.is_object() ? leader.value("HTTPAddr", "") : "";
  if (addr.empty() && why && why->empty())
    *why = "etcd holds no leader key: writes wait for a server to be elected";
  return addr;
}

// Why no server leads, as etcd says it: unreachable (its error), no leader key yet, or a key
// whose server no longer leads (its lease is about to lapse).
std::string why_no_leader(const ServerApiContext& ctx) {
  upstream::EtcdClient etcd(ctx.etcd);
  auto v = etcd.get(ctx.keys.leader());
  if (!v) return v.message();
  if (!v.value()) return "etcd holds no leader key: writes wait for a server to be elected";
  json leader = json::parse(*v.value(), nullptr, false);
  const std::string name = leader.is_object() ? leader.value("Name", "") : "";
  return "etcd still names " + (name.empty() ? std::string("a server") : name) +
         " the leader, whose lease is lapsing: writes wait for the next election";
}

// Sends `req` as it came to the leader and puts its answer in `res`. False, with why, when
// there is no other server to send it to or it cannot be reached (nothing is put in `res`).
bool forward_to_leader(const ServerApiContext& ctx, const httplib::Request& req,
                       httplib::Response& res, std::string* why) {
  // One hop at most. A server that has just lost its lease still has its own address as the
  // leader key's last value (etcd, down, has not dropped the key), and two servers can each
  // name the other for a moment: forwarding again, to itself or back, went round until the
  // connections from 127.0.0.1 ran out and the client got 429 instead of a 503 naming etcd
  // (Cluster.EtcdRestartedUnderLoad...).
  if (const auto by = req.get_header_value("X-Drover-Forwarded-By"); !by.empty()) {
    *why = why_no_leader(ctx) + " (server " + by + " forwarded this to " + ctx.name +
           ", which does not lead)";
    return false;
  }
  std::string addr = leader_addr(ctx, why);
  if (addr == ctx.http_addr) {
    *why = why_no_leader(ctx) + " (" + ctx.name + " lost its leadership and no other is elected yet)";
    return false;
  }
  if (addr.empty()) return false;
  auto c = api::make_peer_client(addr, ctx.tls);
  c->set_read_timeout(30, 0);
  httplib::Request fwd;
  fwd.method = req.method;
  fwd.path = req.target.empty() ? req.path : req.target;
  fwd.body = req.body;
  if (req.has_header("Content-Type")) fwd.set_header("Content-Type", req.get_header_value("Content-Type"));
  fwd.set_header("X-Drover-Forwarded-By", ctx.name);
  for (auto& h : token_headers(req)) fwd.headers.insert(std::move(h));  // the leader checks it
  httplib::Response out;
  httplib::Error err = httplib::Error::Success;
  if (!c->send(fwd, out, err)) {
    *why = "leader " + addr + " unreachable: " + httplib::to_string(err);
    return false;
  }
  res.status = out.status;
  res.set_content(out.body, out.get_header_value("Content-Type").c_str());
  return true;
}

// A write on a follower goes to the leader as it came; with no leader, 503 naming why.
Handler leader_only(ServerApiContext& ctx, Handler h) {
  return [&ctx, h](const httplib::Request& req, httplib::Response& res) {
    if (ctx.election->is_leader()) return h(req, res);
    std::string why;
    if (!forward_to_leader(ctx, req, res, &why)) reply_error(res, 503, "no cluster leader: " + why);
  };
}

namespace {

// An alloc's namespace never changes once it is placed: a client token's next request on the
// same alloc (a log follow, stats every second) need not read the cluster again. Bounded: a
// server with more allocs than this starts over.
class AllocNamespaceCache {
 public:
  std::optional<std::string> get(const std::string& id) {
    std::lock_guard lock(mu_);
    auto it = map_.find(id);
    return it == map_.end() ? std::nullopt : std::optional<std::string>(it->second);
  }
  void put(const std::string& id, const std::string& ns) {
    std::lock_guard lock(mu_);
    if (map_.size() >= 65536) map_.clear();
    map_[id] = ns;
  }

 private:
  std::mutex mu_;
  std::unordered_map<std::string, std::string> map_;
};

AllocNamespaceCache& alloc_namespaces() {
  static AllocNamespaceCache cache;
  return cache;
}

}  // namespace

api::AllocNamespaceLookup alloc_namespace_lookup(const ServerApiContext& ctx) {
  return [&ctx](const std::string& id) -> Result<std::string> {
    if (auto known = alloc_namespaces().get(id)) return *known;  // a full id seen before
    auto a = read_alloc(ctx, id);
    if (!a) return a.error();
    auto ns = a.value().alloc.value("Namespace", std::string(kDefaultNamespace));
    alloc_namespaces().put(a.value().id, ns);
    return ns;
  };
}

// A read handler with the cluster state read for it. On a follower the read goes to the leader,
// which answers from its view (Nomad's default consistency); `?stale` reads here, from etcd, as
// does a read the leader cannot be reached for.
Handler with_state(
    ServerApiContext& ctx,
    std::function<void(const ClusterState&, const httplib::Request&, httplib::Response&)> h) {
  return [&ctx, h](const httplib::Request& req, httplib::Response& res) {
    if (ctx.election && !ctx.election->is_leader() && !req.has_param("stale") &&
        req.get_header_value("X-Drover-Forwarded-By").empty()) {
      std::string why;
      if (forward_to_leader(ctx, req, res, &why)) return;
      spdlog::debug("server: a read of {} stays here: {}", req.path, why);
    }
    auto st = read_state(ctx);
    if (!st) return reply_error(res, 503, st.message());
    h(*st.value(), req, res);
  };
}

}  // namespace drover::server
