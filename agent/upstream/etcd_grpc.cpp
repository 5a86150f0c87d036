// The etcd module (etcd_module.hpp): EtcdClient's transport over etcd's v3 gRPC API.
#include <grpcpp/grpcpp.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <map>
#include <mutex>
#include <sstream>

#include "drover/common/encoding.hpp"
#include "etcd_rpc.grpc.pb.h"
#include "upstream/etcd_module.hpp"

namespace drover::upstream {

using nlohmann::json;
namespace pb = etcdserverpb;

namespace {

// One endpoint's channel and stubs, shared by the process's clients.
struct Stubs {
  std::string name;  // the endpoint as configured
  std::shared_ptr<grpc::Channel> channel;
  std::unique_ptr<pb::KV::Stub> kv;
  std::unique_ptr<pb::Watch::Stub> watch;
  std::unique_ptr<pb::Lease::Stub> lease;
  std::unique_ptr<pb::Auth::Stub> auth;
};

std::string read_file(const std::string& path) {
  if (path.empty()) return {};
  std::ifstream in(path, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// gRPC makes progress on a connection attempt only while some thread polls the channel. A
// call on a channel in TRANSIENT_FAILURE fails at once without polling, so after etcd came
// back nothing moved the next attempt on but gRPC's backup poller, every 5 s by default: under
// CPU load, where a connect to a listening port completes asynchronously, an agent took 9 to
// 13 s, each step of the attempt (TCP, then the HTTP/2 handshake) 5 s apart, to register again
// after etcd was healthy, and with a TTL under that its node's key lapsed (docs/cluster.md,
// "Keys"; without load: 3 to 435 ms). Polled every 100 ms: 0.2 to 1.1 s. An operator's own
// setting is kept. Set before the first channel, whose creation starts gRPC.
void poll_connection_attempts_often() {
  static std::once_flag once;
  std::call_once(once, [] { ::setenv("GRPC_CLIENT_CHANNEL_BACKUP_POLL_INTERVAL_MS", "100", 0); });
}

std::shared_ptr<Stubs> make_stubs(const std::string& endpoint, const EtcdConfig& cfg) {
  poll_connection_attempts_often();
  // "https://host:port" speaks TLS, "http://host:port" (or a bare "host:port") does not.
  std::string target = endpoint;
  bool tls = false;
  if (target.rfind("https://", 0) == 0) {
    tls = true;
    target.erase(0, 8);
  } else if (target.rfind("http://", 0) == 0) {
    target.erase(0, 7);
  }
  if (auto slash = target.find('/'); slash != std::string::npos) target.resize(slash);
  std::shared_ptr<grpc::ChannelCredentials> creds;
  if (tls) {
    grpc::SslCredentialsOptions o;
    o.pem_root_certs = read_file(cfg.ca_file);  // empty: the system's roots
    o.pem_private_key = read_file(cfg.key_file);
    o.pem_cert_chain = read_file(cfg.cert_file);
    creds = grpc::SslCredentials(o);
  } else {
    creds = grpc::InsecureChannelCredentials();
  }
  grpc::ChannelArguments args;
  // A whole cluster's state is one range: no limit on what etcd sends back (its own limit on
  // requests, --max-request-bytes, is what the writers keep under).
  args.SetMaxReceiveMessageSize(-1);
  // An etcd that restarts is reached again within a second, not after gRPC's default backoff
  // of up to two minutes. (Not GRPC_ARG_MIN_RECONNECT_BACKOFF_MS: gRPC takes it for how long
  // a connection attempt may take too, and an etcd still starting needs more than that.)
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  auto s = std::make_shared<Stubs>();
  s->name = endpoint;
  s->channel = grpc::CreateCustomChannel(target, creds, args);
  s->kv = pb::KV::NewStub(s->channel);
  s->watch = pb::Watch::NewStub(s->channel);
  s->lease = pb::Lease::NewStub(s->channel);
  s->auth = pb::Auth::NewStub(s->channel);
  return s;
}

// One channel per endpoint and TLS files, shared by every EtcdClient of the process (the
// server makes one per request): gRPC keeps one HTTP/2 connection under it, reconnects it,
// and carries concurrent calls on it.
class ChannelCache {
 public:
  static ChannelCache& instance() {
    static auto* cache = new ChannelCache;  // never destroyed: threads may call at exit
    return *cache;
  }
  std::shared_ptr<Stubs> get(const std::string& endpoint, const EtcdConfig& cfg) {
    const std::string key =
        endpoint + '\n' + cfg.cert_file + '\n' + cfg.key_file + '\n' + cfg.ca_file;
    std::lock_guard lock(mu_);
    auto& s = stubs_[key];
    if (!s) s = make_stubs(endpoint, cfg);
    return s;
  }

 private:
  std::mutex mu_;
  std::map<std::string, std::shared_ptr<Stubs>> stubs_;
};

void set_deadline(grpc::ClientContext& ctx, std::chrono::milliseconds timeout) {
  ctx.set_deadline(std::chrono::system_clock::now() + timeout);
}

EtcdKv kv_of(const pb::KeyValue& kv) {
  return {kv.key(), kv.value(), kv.mod_revision(), kv.create_revision()};
}

// The gateway's JSON shape of a transaction (what txn() takes and answers) to and from the
// protobuf messages.
std::string b64_field(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_string()) return {};
  return base64_decode(j[key].get<std::string>()).value_or("");
}

void compare_of(const json& j, pb::Compare& c) {
  c.set_key(b64_field(j, "key"));
  if (j.contains("range_end")) c.set_range_end(b64_field(j, "range_end"));
  static const std::map<std::string, pb::Compare::CompareTarget> targets = {
      {"VERSION", pb::Compare::VERSION}, {"CREATE", pb::Compare::CREATE},
      {"MOD", pb::Compare::MOD},         {"VALUE", pb::Compare::VALUE},
      {"LEASE", pb::Compare::LEASE}};
  static const std::map<std::string, pb::Compare::CompareResult> results = {
      {"EQUAL", pb::Compare::EQUAL},
      {"GREATER", pb::Compare::GREATER},
      {"LESS", pb::Compare::LESS},
      {"NOT_EQUAL", pb::Compare::NOT_EQUAL}};
  if (auto t = targets.find(j.value("target", "VERSION")); t != targets.end())
    c.set_target(t->second);
  if (auto r = results.find(j.value("result", "EQUAL")); r != results.end())
    c.set_result(r->second);
  switch (c.target()) {
    case pb::Compare::VERSION: c.set_version(json_int(j, "version")); break;
    case pb::Compare::CREATE: c.set_create_revision(json_int(j, "create_revision")); break;
    case pb::Compare::MOD: c.set_mod_revision(json_int(j, "mod_revision")); break;
    case pb::Compare::VALUE: c.set_value(b64_field(j, "value")); break;
    case pb::Compare::LEASE: c.set_lease(json_int(j, "lease")); break;
    default: break;
  }
}

void op_of(const json& j, pb::RequestOp& op) {
  if (j.contains("request_put")) {
    const json& p = j["request_put"];
    auto* put = op.mutable_request_put();
    put->set_key(b64_field(p, "key"));
    put->set_value(b64_field(p, "value"));
    put->set_lease(json_int(p, "lease"));
  } else if (j.contains("request_delete_range")) {
    const json& d = j["request_delete_range"];
    auto* del = op.mutable_request_delete_range();
    del->set_key(b64_field(d, "key"));
    if (d.contains("range_end")) del->set_range_end(b64_field(d, "range_end"));
  } else if (j.contains("request_range")) {
    const json& r = j["request_range"];
    auto* range = op.mutable_request_range();
    range->set_key(b64_field(r, "key"));
    if (r.contains("range_end")) range->set_range_end(b64_field(r, "range_end"));
    range->set_limit(json_int(r, "limit"));
  }
}

json kv_json(const pb::KeyValue& kv) {
  return {{"key", base64_encode(kv.key())},
          {"value", base64_encode(kv.value())},
          {"create_revision", kv.create_revision()},
          {"mod_revision", kv.mod_revision()},
          {"version", kv.version()},
          {"lease", kv.lease()}};
}

json txn_reply_json(const pb::TxnResponse& r) {
  json responses = json::array();
  for (const auto& op : r.responses()) {
    if (op.has_response_range()) {
      json kvs = json::array();
      for (const auto& kv : op.response_range().kvs()) kvs.push_back(kv_json(kv));
      responses.push_back({{"response_range", {{"kvs", kvs}}}});
    } else if (op.has_response_delete_range()) {
      responses.push_back(
          {{"response_delete_range", {{"deleted", op.response_delete_range().deleted()}}}});
    } else {
      responses.push_back({{"response_put", json::object()}});
    }
  }
  return {{"header", {{"revision", r.header().revision()}}},
          {"succeeded", r.succeeded()},
          {"responses", responses}};
}

class GrpcEtcd final : public EtcdTransport {
 public:
  explicit GrpcEtcd(EtcdConfig cfg) : cfg_(std::move(cfg)) {}

  Status put(const std::string& key, const std::string& value, int64_t lease) override;
  Status put_all(const std::vector<std::pair<std::string, std::string>>& kvs) override;
  Result<EtcdRange> range_prefix(const std::string& prefix, int64_t limit) override;
  Result<EtcdRange> range_keys(const std::string& prefix) override;
  Result<std::optional<std::string>> get(const std::string& key) override;
  Status delete_key(const std::string& key) override;
  Result<json> txn(const json& request) override;
  Result<EtcdCasResult> compare_and_put(const std::string& key,
                                        const std::optional<std::string>& value,
                                        std::optional<int64_t> mod_revision) override;
  Result<int64_t> lease_grant(std::chrono::seconds ttl) override;
  Result<int64_t> lease_keepalive(int64_t lease) override;
  Status lease_revoke(int64_t lease) override;
  Status watch_prefix(const std::string& prefix, int64_t start_revision,
                      const EtcdWatchFn& fn) override;
  void interrupt() override;
  std::string endpoint() const override;

 private:
  std::shared_ptr<Stubs> stubs(std::size_t index) const;
  // Calls `rpc(stubs, context)` on the current endpoint, failing over to the next when one
  // is unreachable and authenticating again when the token expired.
  template <class Rpc>
  Status call(const char* what, Rpc&& rpc);
  Result<std::string> authenticate(Stubs& s);  // the token
  Result<EtcdRange> range(const std::string& prefix, int64_t limit, bool keys_only);

  EtcdConfig cfg_;
  mutable std::mutex mu_;
  std::size_t current_ = 0;
  std::string token_;
  grpc::ClientContext* watching_ = nullptr;
  std::atomic<bool> interrupted_{false};
};

std::string GrpcEtcd::endpoint() const {
  std::lock_guard lock(mu_);
  return cfg_.endpoints[current_ % cfg_.endpoints.size()];
}

std::shared_ptr<Stubs> GrpcEtcd::stubs(std::size_t index) const {
  return ChannelCache::instance().get(cfg_.endpoints[index % cfg_.endpoints.size()], cfg_);
}

Result<std::string> GrpcEtcd::authenticate(Stubs& s) {
  pb::AuthenticateRequest req;
  req.set_name(cfg_.username);
  req.set_password(cfg_.password);
  pb::AuthenticateResponse res;
  grpc::ClientContext ctx;
  set_deadline(ctx, cfg_.request_timeout);
  grpc::Status st = s.auth->Authenticate(&ctx, req, &res);
  if (!st.ok())
    return make_error("etcd authenticate as \"" + cfg_.username + "\": " + st.error_message());
  std::lock_guard lock(mu_);
  token_ = res.token();
  return res.token();
}

template <class Rpc>
Status GrpcEtcd::call(const char* what, Rpc&& rpc) {
  std::string last_error = "no endpoints";
  const std::size_t n = cfg_.endpoints.size();
  std::size_t start;
  {
    std::lock_guard lock(mu_);
    start = current_;
  }
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t idx = (start + i) % n;
    auto s = stubs(idx);
    for (int attempt = 0; attempt < 2; ++attempt) {
      std::string token;
      {
        std::lock_guard lock(mu_);
        token = token_;
      }
      if (token.empty() && !cfg_.username.empty()) {
        auto t = authenticate(*s);
        if (!t) {
          last_error = s->name + ": " + t.message();
          break;
        }
        token = t.value();
      }
      grpc::ClientContext ctx;
      set_deadline(ctx, cfg_.request_timeout);
      if (!token.empty()) ctx.AddMetadata("token", token);
      const grpc::Status st = rpc(*s, ctx);
      if (st.ok()) {
        std::lock_guard lock(mu_);
        current_ = idx;
        return {};
      }
      if (st.error_code() == grpc::StatusCode::UNAVAILABLE ||
          st.error_code() == grpc::StatusCode::DEADLINE_EXCEEDED) {
        last_error = s->name + ": " + st.error_message();
        break;  // next endpoint
      }
      if (attempt == 0 && !cfg_.username.empty() &&
          (st.error_code() == grpc::StatusCode::UNAUTHENTICATED ||
           st.error_message().find("token") != std::string::npos)) {
        std::lock_guard lock(mu_);
        token_.clear();
        continue;  // authenticate again
      }
      // etcd answered: a fail-over would get the same answer.
      return make_error(std::string("etcd ") + what + ": " + st.error_message());
    }
  }
  return make_error("etcd unreachable (" + last_error + ")");
}

Status GrpcEtcd::put(const std::string& key, const std::string& value, int64_t lease) {
  pb::PutRequest req;
  req.set_key(key);
  req.set_value(value);
  req.set_lease(lease);
  pb::PutResponse res;
  return call("put", [&](Stubs& s, grpc::ClientContext& ctx) { return s.kv->Put(&ctx, req, &res); });
}

Status GrpcEtcd::put_all(const std::vector<std::pair<std::string, std::string>>& kvs) {
  pb::TxnRequest req;
  for (const auto& [k, v] : kvs) {
    auto* put = req.add_success()->mutable_request_put();
    put->set_key(k);
    put->set_value(v);
  }
  pb::TxnResponse res;
  return call("txn", [&](Stubs& s, grpc::ClientContext& ctx) { return s.kv->Txn(&ctx, req, &res); });
}

Result<json> GrpcEtcd::txn(const json& request) {
  pb::TxnRequest req;
  for (const auto& c : request.value("compare", json::array())) compare_of(c, *req.add_compare());
  for (const auto& op : request.value("success", json::array())) op_of(op, *req.add_success());
  for (const auto& op : request.value("failure", json::array())) op_of(op, *req.add_failure());
  pb::TxnResponse res;
  auto st =
      call("txn", [&](Stubs& s, grpc::ClientContext& ctx) { return s.kv->Txn(&ctx, req, &res); });
  if (!st) return st.error();
  return txn_reply_json(res);
}

Result<EtcdRange> GrpcEtcd::range_prefix(const std::string& prefix, int64_t limit) {
  return range(prefix, limit, false);
}

Result<EtcdRange> GrpcEtcd::range_keys(const std::string& prefix) { return range(prefix, 0, true); }

Result<EtcdRange> GrpcEtcd::range(const std::string& prefix, int64_t limit, bool keys_only) {
  pb::RangeRequest req;
  req.set_key(prefix);
  req.set_range_end(EtcdClient::prefix_end(prefix));
  req.set_limit(limit > 0 ? limit : 0);
  req.set_keys_only(keys_only);
  pb::RangeResponse res;
  auto st = call("range",
                 [&](Stubs& s, grpc::ClientContext& ctx) { return s.kv->Range(&ctx, req, &res); });
  if (!st) return st.error();
  EtcdRange out;
  out.revision = res.header().revision();
  out.kvs.reserve(res.kvs_size());
  for (auto& kv : *res.mutable_kvs())
    out.kvs.push_back({std::move(*kv.mutable_key()), std::move(*kv.mutable_value()),
                       kv.mod_revision(), kv.create_revision()});
  return out;
}

Result<std::optional<std::string>> GrpcEtcd::get(const std::string& key) {
  pb::RangeRequest req;
  req.set_key(key);
  pb::RangeResponse res;
  auto st = call("range",
                 [&](Stubs& s, grpc::ClientContext& ctx) { return s.kv->Range(&ctx, req, &res); });
  if (!st) return st.error();
  if (res.kvs_size() == 0) return std::optional<std::string>();
  return std::optional<std::string>(res.kvs(0).value());
}

Status GrpcEtcd::delete_key(const std::string& key) {
  pb::DeleteRangeRequest req;
  req.set_key(key);
  pb::DeleteRangeResponse res;
  return call("delete", [&](Stubs& s, grpc::ClientContext& ctx) {
    return s.kv->DeleteRange(&ctx, req, &res);
  });
}

Result<EtcdCasResult> GrpcEtcd::compare_and_put(const std::string& key,
                                                  const std::optional<std::string>& value,
                                                  std::optional<int64_t> mod_revision) {
  pb::TxnRequest req;
  if (mod_revision) {
    auto* c = req.add_compare();
    c->set_key(key);
    c->set_target(pb::Compare::MOD);
    c->set_result(pb::Compare::EQUAL);
    c->set_mod_revision(*mod_revision);
  }
  if (value) {
    auto* put = req.add_success()->mutable_request_put();
    put->set_key(key);
    put->set_value(*value);
  } else {
    req.add_success()->mutable_request_delete_range()->set_key(key);
  }
  req.add_success()->mutable_request_range()->set_key(key);
  req.add_failure()->mutable_request_range()->set_key(key);
  pb::TxnResponse res;
  auto st =
      call("txn", [&](Stubs& s, grpc::ClientContext& ctx) { return s.kv->Txn(&ctx, req, &res); });
  if (!st) return st.error();
  EtcdCasResult out;
  out.succeeded = res.succeeded();
  out.revision = res.header().revision();
  for (const auto& op : res.responses())
    if (op.has_response_range())
      for (const auto& kv : op.response_range().kvs()) out.current = kv_of(kv);
  return out;
}

Result<int64_t> GrpcEtcd::lease_grant(std::chrono::seconds ttl) {
  pb::LeaseGrantRequest req;
  req.set_ttl(ttl.count());
  pb::LeaseGrantResponse res;
  auto st = call("lease grant", [&](Stubs& s, grpc::ClientContext& ctx) {
    return s.lease->LeaseGrant(&ctx, req, &res);
  });
  if (!st) return st.error();
  if (!res.error().empty()) return make_error("etcd lease grant: " + res.error());
  if (!res.id()) return make_error("etcd lease grant: no lease id in the reply");
  return res.id();
}

Result<int64_t> GrpcEtcd::lease_keepalive(int64_t lease) {
  pb::LeaseKeepAliveRequest req;
  req.set_id(lease);
  pb::LeaseKeepAliveResponse res;
  bool answered = false;
  // LeaseKeepAlive is a stream in etcd's API: one request, one answer, then both sides close.
  auto st = call("lease keepalive", [&](Stubs& s, grpc::ClientContext& ctx) {
    auto stream = s.lease->LeaseKeepAlive(&ctx);
    if (stream->Write(req)) {
      stream->WritesDone();
      answered = stream->Read(&res);
    }
    if (answered) ctx.TryCancel();  // nothing more to read: do not wait on etcd's close
    grpc::Status fin = stream->Finish();
    return answered ? grpc::Status::OK : fin;
  });
  if (!st) return st.error();
  // A lease that is gone answers with no TTL.
  if (res.ttl() <= 0) return make_error("lease " + std::to_string(lease) + " expired");
  return res.ttl();
}

Status GrpcEtcd::lease_revoke(int64_t lease) {
  pb::LeaseRevokeRequest req;
  req.set_id(lease);
  pb::LeaseRevokeResponse res;
  return call("lease revoke", [&](Stubs& s, grpc::ClientContext& ctx) {
    return s.lease->LeaseRevoke(&ctx, req, &res);
  });
}

Status GrpcEtcd::watch_prefix(
    const std::string& prefix, int64_t start_revision,
    const EtcdWatchFn& fn) {
  std::size_t idx;
  {
    std::lock_guard lock(mu_);
    idx = current_;
  }
  auto s = stubs(idx);
  std::string token;
  if (!cfg_.username.empty()) {
    auto t = authenticate(*s);
    if (!t) return t.error();
    token = t.value();
  }
  // No deadline: a watch is quiet until something changes. A dead etcd is noticed by the
  // heartbeat, which interrupts the watch.
  grpc::ClientContext ctx;
  if (!token.empty()) ctx.AddMetadata("token", token);
  {
    std::lock_guard lock(mu_);
    if (interrupted_.exchange(false)) return make_error("interrupted");
    watching_ = &ctx;
  }
  struct Reset {
    GrpcEtcd* self;
    ~Reset() {
      std::lock_guard lock(self->mu_);
      self->watching_ = nullptr;
    }
  } reset{this};
  auto stream = s->watch->Watch(&ctx);
  pb::WatchRequest req;
  auto* create = req.mutable_create_request();
  create->set_key(prefix);
  create->set_range_end(EtcdClient::prefix_end(prefix));
  create->set_start_revision(start_revision);
  std::string failure;
  bool compacted = false;
  if (stream->Write(req)) {
    pb::WatchResponse res;
    while (stream->Read(&res)) {
      if (res.compact_revision() > 0) {
        compacted = true;
        failure = "compacted: revision " + std::to_string(start_revision) +
                  " is gone (compacted at " + std::to_string(res.compact_revision()) + ")";
        break;
      }
      if (res.canceled()) {
        failure = "etcd watch canceled: " +
                  (res.cancel_reason().empty() ? std::string("no reason") : res.cancel_reason());
        break;
      }
      if (res.events_size() > 0) {
        std::vector<EtcdWatchEvent> events;
        events.reserve(res.events_size());
        for (auto& e : *res.mutable_events()) {
          EtcdWatchEvent ev;
          ev.deleted = e.type() == pb::Event::DELETE;
          auto* kv = e.mutable_kv();
          ev.kv = {std::move(*kv->mutable_key()), std::move(*kv->mutable_value()),
                   kv->mod_revision(), kv->create_revision()};
          events.push_back(std::move(ev));
        }
        fn(events, res.header().revision());
      }
      if (interrupted_.load()) break;
    }
  }
  ctx.TryCancel();  // whatever ended the loop, the stream ends here
  const grpc::Status st = stream->Finish();
  if (compacted) return make_error(failure, Errc::Gone);
  if (!failure.empty()) return make_error(failure);
  if (interrupted_.exchange(false)) return make_error("interrupted");
  if (!st.ok() && st.error_code() != grpc::StatusCode::CANCELLED)
    return make_error("etcd watch on " + s->name + ": " + st.error_message());
  return make_error("etcd watch on " + s->name + " ended");
}

void GrpcEtcd::interrupt() {
  std::lock_guard lock(mu_);
  interrupted_ = true;
  if (watching_) watching_->TryCancel();
}

}  // namespace

}  // namespace drover::upstream

extern "C" __attribute__((visibility("default"))) const drover::upstream::EtcdModule*
drover_etcd_module() {
  static const drover::upstream::EtcdModule m{
      drover::upstream::kEtcdModuleVersion,
      [](const drover::upstream::EtcdConfig& cfg) -> std::unique_ptr<drover::upstream::EtcdTransport> {
        return std::make_unique<drover::upstream::GrpcEtcd>(cfg);
      }};
  return &m;
}
