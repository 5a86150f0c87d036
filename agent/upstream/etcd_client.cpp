// etcd v3 JSON gateway client; see etcd_client.hpp.
#include "upstream/etcd_client.hpp"

#include <fcntl.h>
#include <httplib.h>

#include <algorithm>
#include <map>
#include <string_view>

#include "drover/common/encoding.hpp"
#include "drover/common/json_text.hpp"

namespace drover::upstream {

using nlohmann::json;

namespace {


std::string error_of(const json& j, int status) {
  if (j.contains("error")) {
    const auto& e = j["error"];
    if (e.is_string()) return e.get<std::string>();
    if (e.is_object() && e.contains("message")) return e["message"].get<std::string>();
  }
  if (j.contains("message") && j["message"].is_string()) return j["message"].get<std::string>();
  return "HTTP " + std::to_string(status);
}

// Keep-alive connections to etcd, shared by every EtcdClient of the process (the server makes
// one per request): a call takes an idle connection to its endpoint with its TLS files, or
// opens one, and gives it back when etcd answered. A new TCP (and TLS) connection per
// request was most of what a request cost both sides.
class ConnectionPool {
 public:
  static ConnectionPool& instance() {
    static auto* pool = new ConnectionPool;  // never destroyed: threads may call at exit
    return *pool;
  }
  std::unique_ptr<httplib::Client> take(const std::string& key) {
    std::lock_guard lock(mu_);
    auto it = idle_.find(key);
    if (it == idle_.end() || it->second.empty()) return nullptr;
    auto c = std::move(it->second.back());
    it->second.pop_back();
    return c;
  }
  void give(const std::string& key, std::unique_ptr<httplib::Client> c) {
    std::lock_guard lock(mu_);
    auto& list = idle_[key];
    if (list.size() < kMaxIdle) list.push_back(std::move(c));
  }

 private:
  static constexpr std::size_t kMaxIdle = 16;
  std::mutex mu_;
  std::map<std::string, std::vector<std::unique_ptr<httplib::Client>>> idle_;
};

}  // namespace

int64_t json_int(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key)) return 0;
  const auto& v = j.at(key);
  // The gateway writes int64 values as strings (proto3 JSON).
  if (v.is_string()) {
    try {
      return std::stoll(v.get<std::string>());
    } catch (...) {
      return 0;
    }
  }
  return v.is_number_integer() ? v.get<int64_t>() : 0;
}

std::optional<int64_t> EtcdClient::header_revision(const json& reply) {
  int64_t rev = json_int(reply.value("header", json::object()), "revision");
  if (rev <= 0) return std::nullopt;
  return rev;
}

std::string EtcdClient::prefix_end(const std::string& prefix) {
  std::string end = prefix;
  while (!end.empty()) {
    if (static_cast<unsigned char>(end.back()) < 0xff) {
      end.back() = static_cast<char>(end.back() + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');  // every key
}

EtcdClient::EtcdClient(EtcdConfig cfg) : cfg_(std::move(cfg)) {}
EtcdClient::~EtcdClient() = default;

std::string EtcdClient::endpoint() const {
  std::lock_guard lock(mu_);
  return cfg_.endpoints[current_ % cfg_.endpoints.size()];
}

std::unique_ptr<httplib::Client> EtcdClient::make_client(
    const std::string& endpoint, std::chrono::milliseconds read_timeout) const {
  std::unique_ptr<httplib::Client> c;
  if (!cfg_.cert_file.empty())
    c = std::make_unique<httplib::Client>(endpoint, cfg_.cert_file, cfg_.key_file);
  else
    c = std::make_unique<httplib::Client>(endpoint);
  if (!cfg_.ca_file.empty()) c->set_ca_cert_path(cfg_.ca_file);
  auto t = cfg_.request_timeout.count();
  c->set_connection_timeout(t / 1000, (t % 1000) * 1000);
  c->set_read_timeout(read_timeout.count() / 1000, (read_timeout.count() % 1000) * 1000);
  c->set_write_timeout(t / 1000, (t % 1000) * 1000);
  c->set_keep_alive(true);
  // Kept connections (and the watch's) live long: no process the agent spawns (a script
  // check, a runtime CLI) may inherit one; cpp-httplib opens its sockets without SOCK_CLOEXEC.
  c->set_socket_options([](socket_t s) { ::fcntl(s, F_SETFD, FD_CLOEXEC); });
  c->set_tcp_nodelay(true);  // a kept connection would wait on delayed ACKs between writes
  return c;
}

Status EtcdClient::authenticate(httplib::Client& c) {
  if (cfg_.username.empty()) return {};
  json body = {{"name", cfg_.username}, {"password", cfg_.password}};
  auto res = c.Post("/v3/auth/authenticate", json_text(body), "application/json");
  if (!res) return make_error("etcd authenticate: " + httplib::to_string(res.error()));
  json j = json::parse(res->body, nullptr, false);
  if (res->status != 200 || !j.contains("token"))
    return make_error("etcd authenticate as \"" + cfg_.username +
                      "\": " + error_of(j, res->status));
  std::lock_guard lock(mu_);
  token_ = j["token"].get<std::string>();
  return {};
}

Result<json> EtcdClient::call(const std::string& path, const json& body) {
  std::string last_error = "no endpoints";
  std::size_t n = cfg_.endpoints.size();
  std::size_t start;
  {
    std::lock_guard lock(mu_);
    start = current_;
  }
  for (std::size_t i = 0; i < n; ++i) {
    std::size_t idx = (start + i) % n;
    const auto& ep = cfg_.endpoints[idx];
    const std::string pool_key = ep + '\n' + cfg_.cert_file + '\n' + cfg_.key_file + '\n' +
                                 cfg_.ca_file + '\n' +
                                 std::to_string(cfg_.request_timeout.count());
    auto c = ConnectionPool::instance().take(pool_key);
    bool reused = c != nullptr;
    if (!c) c = make_client(ep, cfg_.request_timeout);
    for (int attempt = 0; attempt < 2; ++attempt) {
      std::string token;
      {
        std::lock_guard lock(mu_);
        token = token_;
      }
      if (token.empty() && !cfg_.username.empty()) {
        if (auto st = authenticate(*c); !st) {
          last_error = st.message();
          break;
        }
        std::lock_guard lock(mu_);
        token = token_;
      }
      httplib::Headers headers;
      if (!token.empty()) headers.emplace("Authorization", token);
      auto res = c->Post(path.c_str(), headers, json_text(body), "application/json");
      if (!res && reused) {
        // etcd may have closed the idle connection: once more on a new one.
        reused = false;
        c = make_client(ep, cfg_.request_timeout);
        res = c->Post(path.c_str(), headers, json_text(body), "application/json");
      }
      if (!res) {
        last_error = ep + ": " + httplib::to_string(res.error());
        break;  // next endpoint
      }
      json j = json::parse(res->body, nullptr, false);
      if (res->status == 200 && !j.is_discarded()) {
        ConnectionPool::instance().give(pool_key, std::move(c));
        std::lock_guard lock(mu_);
        current_ = idx;
        return j;
      }
      std::string err = error_of(j, res->status);
      if (attempt == 0 && !cfg_.username.empty() &&
          (err.find("token") != std::string::npos || res->status == 401)) {
        std::lock_guard lock(mu_);
        token_.clear();
        continue;  // authenticate again
      }
      ConnectionPool::instance().give(pool_key, std::move(c));
      // etcd answered: a fail-over would get the same answer.
      return make_error("etcd " + path + ": " + err);
    }
  }
  return make_error("etcd unreachable (" + last_error + ")");
}

Status EtcdClient::put(const std::string& key, const std::string& value, int64_t lease) {
  json body = {{"key", base64_encode(key)}, {"value", base64_encode(value)}};
  if (lease) body["lease"] = std::to_string(lease);
  auto r = call("/v3/kv/put", body);
  if (!r) return r.error();
  return {};
}

Status EtcdClient::put_all(const std::vector<std::pair<std::string, std::string>>& kvs) {
  json ops = json::array();
  for (const auto& [k, v] : kvs)
    ops.push_back({{"request_put", {{"key", base64_encode(k)}, {"value", base64_encode(v)}}}});
  auto r = call("/v3/kv/txn", {{"success", ops}});
  if (!r) return r.error();
  return {};
}

Result<json> EtcdClient::txn(const json& request) { return call("/v3/kv/txn", request); }

Result<EtcdRange> EtcdClient::range_prefix(const std::string& prefix, int64_t limit) {
  json request = {{"key", base64_encode(prefix)}, {"range_end", base64_encode(prefix_end(prefix))}};
  if (limit > 0) request["limit"] = std::to_string(limit);
  auto r = call("/v3/kv/range", request);
  if (!r) return r.error();
  EtcdRange out;
  out.revision = json_int(r.value().value("header", json::object()), "revision");
  for (const auto& kv : r.value().value("kvs", json::array()))
    out.kvs.push_back({base64_decode(kv.value("key", "")).value_or(""),
                       base64_decode(kv.value("value", "")).value_or(""),
                       json_int(kv, "mod_revision"), json_int(kv, "create_revision")});
  return out;
}

Result<std::optional<std::string>> EtcdClient::get(const std::string& key) {
  auto r = call("/v3/kv/range", {{"key", base64_encode(key)}});
  if (!r) return r.error();
  auto kvs = r.value().value("kvs", json::array());
  if (kvs.empty()) return std::optional<std::string>();
  return std::optional<std::string>(base64_decode(kvs[0].value("value", "")).value_or(""));
}

Status EtcdClient::delete_key(const std::string& key) {
  auto r = call("/v3/kv/deleterange", {{"key", base64_encode(key)}});
  if (!r) return r.error();
  return {};
}

Result<EtcdCasResult> EtcdClient::compare_and_put(const std::string& key,
                                                  const std::optional<std::string>& value,
                                                  std::optional<int64_t> mod_revision) {
  const std::string k = base64_encode(key);
  json compare = json::array();
  if (mod_revision)
    compare.push_back({{"key", k},
                       {"target", "MOD"},
                       {"result", "EQUAL"},
                       {"mod_revision", std::to_string(*mod_revision)}});
  json success = json::array();
  if (value)
    success.push_back({{"request_put", {{"key", k}, {"value", base64_encode(*value)}}}});
  else
    success.push_back({{"request_delete_range", {{"key", k}}}});
  success.push_back({{"request_range", {{"key", k}}}});
  json failure = json::array({{{"request_range", {{"key", k}}}}});
  auto r = call("/v3/kv/txn", {{"compare", compare}, {"success", success}, {"failure", failure}});
  if (!r) return r.error();
  EtcdCasResult out;
  out.succeeded = r.value().value("succeeded", false);
  out.revision = json_int(r.value().value("header", json::object()), "revision");
  for (const auto& resp : r.value().value("responses", json::array())) {
    if (!resp.contains("response_range")) continue;
    for (const auto& kv : resp["response_range"].value("kvs", json::array()))
      out.current = EtcdKv{base64_decode(kv.value("key", "")).value_or(""),
                           base64_decode(kv.value("value", "")).value_or(""),
                           json_int(kv, "mod_revision"), json_int(kv, "create_revision")};
  }
  return out;
}

Result<int64_t> EtcdClient::lease_grant(std::chrono::seconds ttl) {
  auto r = call("/v3/lease/grant", {{"TTL", std::to_string(ttl.count())}});
  if (!r) return r.error();
  int64_t id = json_int(r.value(), "ID");
  if (!id) return make_error("etcd lease grant: no lease id in the reply");
  return id;
}

Result<int64_t> EtcdClient::lease_keepalive(int64_t lease) {
  auto r = call("/v3/lease/keepalive", {{"ID", std::to_string(lease)}});
  if (!r) return r.error();
  // A lease that is gone answers with no TTL (proto3 leaves out the zero).
  int64_t ttl = json_int(r.value().value("result", json::object()), "TTL");
  if (ttl <= 0) return make_error("lease " + std::to_string(lease) + " expired");
  return ttl;
}

Status EtcdClient::lease_revoke(int64_t lease) {
  auto r = call("/v3/lease/revoke", {{"ID", std::to_string(lease)}});
  if (!r) return r.error();
  return {};
}

Status EtcdClient::watch_prefix(
    const std::string& prefix, int64_t start_revision,
    const std::function<void(const std::vector<EtcdWatchEvent>&, int64_t)>& fn) {
  std::string ep = endpoint();
  // No read timeout to speak of: a watch is quiet until something changes. A dead etcd is
  // noticed by the heartbeat, which interrupts the watch.
  auto c = make_client(ep, std::chrono::hours(24));
  {
    std::lock_guard lock(mu_);
    if (interrupted_.exchange(false)) return make_error("interrupted");
    watching_ = c.get();
  }
  struct Reset {
    EtcdClient* self;
    ~Reset() {
      std::lock_guard lock(self->mu_);
      self->watching_ = nullptr;
    }
  } reset{this};
  std::string token;
  if (!cfg_.username.empty()) {
    if (auto st = authenticate(*c); !st) return st;
    std::lock_guard lock(mu_);
    token = token_;
  }
  json create = {{"key", base64_encode(prefix)},
                 {"range_end", base64_encode(prefix_end(prefix))},
                 {"start_revision", std::to_string(start_revision)}};
  httplib::Request req;
  req.method = "POST";
  req.path = "/v3/watch";
  req.body = json_text(json{{"create_request", create}});
  req.set_header("Content-Type", "application/json");
  if (!token.empty()) req.set_header("Authorization", token);
  std::string buf, failure;
  // buf[0, scanned) holds no newline: each chunk is searched once, and the lines taken are cut
  // off once per chunk (a burst's line is hundreds of KiB, read in 16 KiB chunks).
  std::size_t scanned = 0;
  bool compacted = false;
  req.content_receiver = [&](const char* data, size_t len, uint64_t, uint64_t) {
    buf.append(data, len);
    std::size_t start = 0, nl;
    struct Consume {
      std::string& buf;
      std::size_t& start;
      std::size_t& scanned;
      ~Consume() {
        buf.erase(0, start);
        scanned = buf.size();
      }
    } consume{buf, start, scanned};
    while ((nl = buf.find('\n', std::max(start, scanned))) != std::string::npos) {
      const std::string_view line(buf.data() + start, nl - start);
      start = nl + 1;
      if (line.find_first_not_of(" \r\t") == std::string_view::npos) continue;
      json j = json::parse(line.begin(), line.end(), nullptr, false);
      if (j.is_discarded()) continue;
      if (j.contains("error")) {
        failure = "etcd watch: " + error_of(j, 200);
        return false;
      }
      const json& res = j.value("result", json::object());
      if (json_int(res, "compact_revision") > 0) {
        compacted = true;
        failure = "compacted: revision " + std::to_string(start_revision) +
                  " is gone (compacted at " + std::to_string(json_int(res, "compact_revision")) +
                  ")";
        return false;
      }
      if (res.value("canceled", false)) {
        failure = "etcd watch canceled: " + res.value("cancel_reason", std::string("no reason"));
        return false;
      }
      std::vector<EtcdWatchEvent> events;
      int64_t rev = json_int(res.value("header", json::object()), "revision");
      for (const auto& e : res.value("events", json::array())) {
        EtcdWatchEvent ev;
        ev.deleted = e.value("type", "PUT") == "DELETE";
        const json& kv = e.value("kv", json::object());
        ev.kv = {base64_decode(kv.value("key", "")).value_or(""), base64_decode(kv.value("value", "")).value_or(""),
                 json_int(kv, "mod_revision"), json_int(kv, "create_revision")};
        events.push_back(std::move(ev));
      }
      if (!events.empty()) fn(events, rev);
    }
    return !interrupted_.load();
  };
  httplib::Response res;
  httplib::Error err = httplib::Error::Success;
  bool ok = c->send(req, res, err);
  if (compacted) return make_error(failure, Errc::Gone);
  if (!failure.empty()) return make_error(failure);
  if (interrupted_.exchange(false)) return make_error("interrupted");
  if (!ok) return make_error("etcd watch on " + ep + ": " + httplib::to_string(err));
  return make_error("etcd watch on " + ep + " ended");
}

void EtcdClient::interrupt() {
  std::lock_guard lock(mu_);
  interrupted_ = true;
  if (watching_) watching_->stop();
}

}  // namespace drover::upstream
