// `drover server`: config, the three threads, and a clean stop on SIGINT/SIGTERM; see
// server.hpp.
#include "server/server.hpp"

#include <httplib.h>
#include <signal.h>
#include <spdlog/spdlog.h>

#include <iostream>
#include <thread>

#include "api/acl.hpp"
#include "api/exec_endpoint.hpp"
#include "api/host_check.hpp"
#include "api/http_server.hpp"
#include "api/identity_endpoints.hpp"
#include "api/jobs_parse_endpoint.hpp"
#include "api/json_reply.hpp"
#include "api/origin_check.hpp"
#include "api/request_facts.hpp"
#include "api/tls_transport.hpp"
#include "api/ui_endpoint.hpp"
#include "api/http_api.hpp"
#include "api/vars_endpoint.hpp"
#include "core/log_monitor.hpp"
#include "core/systemd_notify.hpp"
#include "drover/common/json_text.hpp"
#include "server/acl_bootstrap.hpp"
#include "server/api_support.hpp"
#include "server/deployments_api.hpp"
#include "server/version_tags.hpp"
#include "server/events_api.hpp"
#include "server/exec_forward.hpp"
#include "server/gc_api.hpp"
#include "server/snapshot.hpp"
#include "server/snapshot_api.hpp"
#include "server/host_volumes_api.hpp"
#include "server/launch_api.hpp"
#include "server/leader_election.hpp"
#include "server/metrics_api.hpp"
#include "server/node_forward.hpp"
#include "server/node_pools_api.hpp"
#include "server/operator_api.hpp"
#include "server/plan_committer.hpp"
#include "server/server_api.hpp"
#include "server/server_config.hpp"
#include "server/write_batcher.hpp"
#include "vars/variable_store.hpp"
#include "vars/workload_identity.hpp"

namespace drover::server {

using nlohmann::json;

int run_server(const ServerFlags& flags) {
  spdlog::set_level(spdlog::level::from_str(flags.log_level));
  // GET /v1/agent/monitor's readers (core/log_monitor.hpp): a sink beside stdout's.
  auto& log_monitor = agent::LogMonitor::install(spdlog::level::from_str(flags.log_level));
  if (flags.config_path.empty()) {
    std::cerr << "Error: drover server needs -config server.yaml (its etcd block at least)\n";
    return 1;
  }
  auto loaded = load_server_config(flags.config_path);
  if (!loaded) {
    std::cerr << "Error: " << loaded.message() << '\n';
    return 1;
  }
  ServerConfig cfg = loaded.value();
  if (!flags.restore_snapshot.empty()) return restore_snapshot_file(cfg, flags.restore_snapshot);
  if (flags.port) cfg.port = flags.port;
  // Off loopback, the API needs tokens or TLS, or the operator's explicit insecure_listen:
  // the agent's rule (docs/security.md), since a server takes jobs for every node.
  std::string exposure_warning;
  if (auto st = api::check_listen_exposure(cfg.bind_addr, cfg.acl_enabled, cfg.tls.enabled(),
                                           cfg.insecure_listen, &exposure_warning);
      !st) {
    std::cerr << "Error: " << st.message() << '\n';
    return 1;
  }
  if (!exposure_warning.empty()) spdlog::warn("{}", exposure_warning);
  // With the agents' keyring_file the server publishes the workload identities' public keys
  // (the key each root key derives is the same on every holder: vars/derived_rsa_key.hpp).
  std::unique_ptr<vars::WorkloadIdentity> identities;
  // Nomad Variables on the servers too, as in Nomad (docs/variables.md, "Cluster mode"): the
  // etcd keys the agents keep them in, sealed with the same keyring_file. Declared before the
  // routes, so that they outlive the HTTP server.
  std::unique_ptr<vars::VariableStore> variables;
  api::ApiContext vars_ctx;
  if (!cfg.keyring_file.empty()) {
    auto keyring = vars::Keyring::open_shared(cfg.keyring_file);
    if (!keyring) {
      std::cerr << "Error: keyring_file: " << keyring.message() << '\n';
      return 1;
    }
    std::shared_ptr<vars::Keyring> shared(std::move(keyring.value()));
    identities = std::make_unique<vars::WorkloadIdentity>(shared, cfg.oidc_issuer);
    variables = std::make_unique<vars::VariableStore>(vars::make_etcd_backend(cfg.etcd), shared);
    vars_ctx.vars = variables.get();
  }

  // Block the stop signals before any thread starts, so that only sigwait sees them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  // The agent's TLS: the same routes object and handshakes (api/tls_transport.hpp).
  auto routes_owner = api::make_api_routes(cfg.tls);
  httplib::Server& routes = *routes_owner;
  if (auto st = api::check_api_routes(routes, cfg.tls); !st) {
    std::cerr << "Error: " << st.message() << '\n';
    return 1;
  }
  api::HttpServer http(routes, api::api_tls_context(routes, cfg.tls), api::ServerLimits{});
  if (auto st = http.bind(cfg.bind_addr, cfg.port); !st) {
    std::cerr << "Error: " << st.message() << '\n';
    return 1;
  }
  const std::string http_addr =
      api::api_scheme(cfg.tls) + cfg.bind_addr + ":" + std::to_string(http.port());
  Keys keys{cfg.etcd.prefix};
  const std::string me = json_text(json{{"Name", cfg.name}, {"HTTPAddr", http_addr}});
  const std::string member = json_text(json{
      {"Name", cfg.name}, {"Addr", cfg.bind_addr}, {"Port", http.port()}, {"HTTPAddr", http_addr}});
  LeaderElection election(cfg.etcd, keys, cfg.name, me, member, cfg.leader_ttl);
  PlanCommitter committer(cfg.etcd, keys, election, cfg.scheduler);
  std::atomic<bool> stopping{false};
  ServerApiContext api_ctx{cfg.etcd,     keys,    cfg.name,
                           http_addr,    &election,
                           [&committer] { committer.wake(); },
                           cfg.scheduler, cfg.tls, &committer.stats(),
                           &stopping};
  GuardedWriteBatcher writes(cfg.etcd);
  api_ctx.writes = &writes;
  api_ctx.log_monitor = &log_monitor;
  api_ctx.leader_counts = [&committer] { return committer.counts(std::chrono::seconds(2)); };
  api_ctx.leader_snapshot = [&committer](int64_t min) {
    return committer.snapshot(min, std::chrono::seconds(1));
  };
  // Tokens in etcd, shared by every server (api/etcd_token_store.hpp); none when acl is off.
  std::unique_ptr<api::EtcdTokenStore> tokens;
  if (cfg.acl_enabled) tokens = std::make_unique<api::EtcdTokenStore>(cfg.etcd);
  // The agent's browser rules (docs/ui.md, "Security"): names it does not answer to (DNS
  // rebinding) and cross-origin writes are refused before any route; then the token check
  // with the agent's policy table; then the same UI.
  const auto allowed_hosts =
      api::allowed_host_names(cfg.name, cfg.bind_addr, cfg.http_allowed_hosts);
  routes.set_pre_routing_handler(
      [&allowed_hosts, &tokens, &api_ctx](const httplib::Request& req, httplib::Response& res) {
        // Live replies are never gzipped (api/http_server.hpp, is_live_stream).
        if (api::is_live_stream(req.path))
          const_cast<httplib::Request&>(req).headers.erase("Accept-Encoding");
        auto why = api::host_refusal(req.get_header_value("Host"), allowed_hosts);
        // A websocket is never held back by CORS: an upgrade is checked as a write (the agent's
        // rule, api/http_api.cpp), so no page of another origin opens an exec session here.
        const bool upgrade = !req.get_header_value("Upgrade").empty();
        if (why.empty())
          why = api::cross_origin_refusal(upgrade ? "POST" : req.method, req.get_header_value("Origin"),
                                          req.get_header_value("Host"),
                                          req.get_header_value("Sec-Fetch-Site"));
        // The exec websocket's token may come in its first message: the route checks it then.
        const bool token_later = api::exec_token_in_first_message(
            req.method, req.path, req.get_header_value("Upgrade"),
            req.get_param_value("ws_handshake"),
            api::request_token(req.get_header_value("X-Nomad-Token"),
                               req.get_header_value("Authorization")));
        api::clear_request_acl();  // this thread's last request's grants are not this one's
        int status = 403;
        if (why.empty() && tokens && !token_later) {
          const auto secret = api::request_token(req.get_header_value("X-Nomad-Token"),
                                                 req.get_header_value("Authorization"));
          if (auto refusal = api::authorize(*tokens, api::request_facts(req, secret), "this server",
                                            alloc_namespace_lookup(api_ctx))) {
            why = refusal->message;
            status = refusal->status;
          }
        }
        if (!why.empty()) {
          api::reply_error(res, status, why);
          return httplib::Server::HandlerResponse::Handled;
        }
        return refuse_bad_namespace(req, res) ? httplib::Server::HandlerResponse::Handled
                                              : httplib::Server::HandlerResponse::Unhandled;
      });
  routes.set_exception_handler(api::reply_exception);
  register_deployment_routes(api_ctx, routes);  // before /v1/job/:id, which would take them
  register_version_tag_routes(api_ctx, routes);  // likewise
  if (variables) {
    api::register_vars_endpoints(routes, vars_ctx);
  } else {
    // Without the cluster's key a server keeps no variables; say so rather than 404.
    const auto no_key = [](const httplib::Request&, httplib::Response& res) {
      api::reply_error(res, 501,
                       "variables: this server has no keyring_file: set the agents' "
                       "keyring_file in its config to read and write the cluster's variables");
    };
    const char* one = R"(/v1/var/(.+))";
    routes.Get("/v1/vars", no_key);
    routes.Get(one, no_key);
    routes.Put(one, no_key);
    routes.Post(one, no_key);
    routes.Delete(one, no_key);
  }
  register_launch_routes(api_ctx, routes);      // so too
  register_action_forward_route(api_ctx, routes, tokens.get());  // so too
  register_node_pool_routes(api_ctx, routes);  // before /v1/node/:id, which would take /pools
  register_server_routes(api_ctx, routes);
  register_operator_routes(api_ctx, routes);
  register_node_forward_routes(api_ctx, routes);
  register_host_volume_routes(api_ctx, routes);
  register_exec_forward_route(api_ctx, routes, tokens.get());
  register_events_route(api_ctx, routes);
  register_metrics_route(api_ctx, routes);
  register_gc_route(api_ctx, routes);
  register_snapshot_route(api_ctx, routes);
  api::register_jobs_parse_endpoint(routes);  // the UI's Submit parses before it plans
  api::register_ui_endpoint(routes);
  api::register_identity_endpoints(
      routes, identities.get(),
      "this server has no keyring_file: set it to the agents' file to publish their workload "
      "identities' keys here (each agent publishes them too)");
  if (tokens) api::register_acl_endpoints(routes, *tokens);

  spdlog::info("drover server {} on {}, etcd {} (prefix {}), leader TTL {}s, ACLs {}", cfg.name,
               http_addr, cfg.etcd.endpoints.front(), cfg.etcd.prefix, cfg.leader_ttl.count(),
               tokens ? "enabled" : "disabled");
  std::jthread election_thread([&](std::stop_token s) { election.run(s); });
  std::jthread plan_thread([&](std::stop_token s) { committer.run(s); });
  std::thread http_thread([&] { http.serve(); });
  std::jthread gc_thread([&](std::stop_token s) {
    collect_when_leader(s, election, cfg.etcd, keys, cfg.gc_interval, cfg.gc);
  });
  std::jthread acl_thread;
  if (tokens)
    acl_thread = std::jthread([&](std::stop_token s) {
      bootstrap_when_leader(s, election, *tokens, cfg.acl_bootstrap_token_file);
    });

  // Under systemd (drover-server.service, Type=notify): ready once the API's socket is
  // bound and every thread runs; a no-op outside systemd.
  agent::SystemdNotifier systemd;
  systemd.ready("serving on " + http_addr + ", etcd " + cfg.etcd.endpoints.front());

  int sig = 0;
  sigwait(&stop_signals, &sig);
  spdlog::info("drover server {}: signal {}, stopping", cfg.name, sig);
  systemd.stopping();
  stopping = true;
  log_monitor.close();  // monitors' streams end, so the API can stop
  if (acl_thread.joinable()) {
    acl_thread.request_stop();
    acl_thread.join();
  }
  plan_thread.request_stop();
  plan_thread.join();
  election_thread.request_stop();  // gives the lease back: another server leads at once
  election_thread.join();
  http.stop();
  http_thread.join();
  return 0;
}

}  // namespace drover::server
