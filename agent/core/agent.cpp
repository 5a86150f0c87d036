#include "core/agent.hpp"

#include <atomic>
#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <cstring>
#include <mutex>
#include <iostream>
#include <set>
#include <thread>

#include "api/acl.hpp"
#include "api/agent_tokens.hpp"
#include "api/etcd_token_store.hpp"
#include "catalog/etcd_catalog.hpp"
#include "catalog/local_catalog.hpp"
#include "api/host_check.hpp"
#include "api/http_api.hpp"
#include "core/agent_config.hpp"
#include "core/fingerprint.hpp"
#include "core/node_json.hpp"
#include "drover/common/encoding.hpp"
#include "runner/admission.hpp"
#include "core/heap_trim.hpp"
#include "core/log_monitor.hpp"
#include "core/node_watcher.hpp"
#include "core/systemd_notify.hpp"
#include "drover/loader/registry.hpp"
#include "drover/cgroups/cgroups.hpp"
#include "drover/cgroups/cpuset_pool.hpp"
#include "runner/alloc_dir.hpp"
#include "runner/alloc_manager.hpp"
#include "runner/device_manager.hpp"
#include "runner/node_resources.hpp"
#include "runner/port_allocator.hpp"
#include "runner/step_timings.hpp"
#include "state/state_store.hpp"
#include "upstream/node_services.hpp"
#include "upstream/upstream_config.hpp"
#include "vars/variable_store.hpp"
#include "vars/workload_identity.hpp"
#include "runner/periodic_launcher.hpp"

#ifndef DROVER_VERSION
#define DROVER_VERSION "0.0.0"
#endif

namespace drover::agent {
namespace {

// One agent per data dir: a second one would run every task twice.
Result<int> lock_data_dir(const std::filesystem::path& dir) {
  auto path = dir / "agent.lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return make_error("cannot open " + path.string() + ": " + std::strerror(errno));
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    char buf[32] = {};
    ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
    std::string holder = n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : "unknown";
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
    ::close(fd);
    return make_error("data dir " + dir.string() + " is in use by another drover agent (pid " +
                      holder + "); refusing to start");
  }
  auto pid = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd, 0) != 0 || ::pwrite(fd, pid.data(), pid.size(), 0) < 0)
    spdlog::warn("cannot write pid to {}", path.string());
  return fd;
}

// Each running task holds one descriptor in the agent (its exit watch), so the soft limit
// (1024 by default outside systemd, whose unit sets 65536) goes up to the hard one.
void raise_nofile_limit() {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0 || lim.rlim_cur >= lim.rlim_max) return;
  rlim_t was = lim.rlim_cur;
  lim.rlim_cur = lim.rlim_max;
  if (setrlimit(RLIMIT_NOFILE, &lim) == 0)
    spdlog::debug("open files limit raised from {} to {}", was, lim.rlim_cur);
}

Status make_data_dir(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return make_error("data_dir " + dir.string() + ": " + ec.message());
  ::chmod(dir.c_str(), 0711);
  return {};
}

// The runtime dir is meant for tmpfs (docs/design.md, "Runtime state"): said once at start
// when it is not, since every start then writes its monitor's files to disk. It may not exist
// yet (the first start makes it): the nearest dir above it that does tells the filesystem.
void check_runtime_dir(const std::filesystem::path& dir) {
  std::filesystem::path at = dir;
  struct statfs fs{};
  while (::statfs(at.c_str(), &fs) != 0 && at.has_relative_path()) at = at.parent_path();
  if (fs.f_type != TMPFS_MAGIC && fs.f_type != RAMFS_MAGIC)
    spdlog::warn("runtime_dir {} is not on tmpfs: each task start writes its monitor's files to "
                 "disk (slower, not wrong; docs/design.md, \"Runtime state\")",
                 dir.string());
}

}  // namespace

int run_agent(const AgentFlags& flags) {
  auto cfg_r = load_agent_config(flags);
  if (!cfg_r) {
    std::cerr << "Error: " << cfg_r.message() << "\n";
    return 1;
  }
  auto& cfg = cfg_r.value();
  spdlog::set_default_logger(spdlog::stderr_color_mt("agent"));
  spdlog::set_level(spdlog::level::from_str(cfg.log_level));
  spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z [%^%l%$] %v");
  // GET /v1/agent/monitor's readers (core/log_monitor.hpp): a sink beside stderr's.
  auto& log_monitor = LogMonitor::install(spdlog::level::from_str(cfg.log_level));

  // Signals are taken by sigwait below; every thread started from here inherits the mask.
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &sigs, nullptr);
  ::signal(SIGPIPE, SIG_IGN);
  raise_nofile_limit();

  // Off loopback, the API needs tokens or TLS, or the operator's explicit insecure_listen.
  std::string exposure_warning;
  if (auto st = api::check_listen_exposure(cfg.bind_addr, cfg.acl_enabled, cfg.tls.enabled(),
                                           cfg.insecure_listen, &exposure_warning);
      !st) {
    std::cerr << "Error: " << st.message() << "\n";
    return 1;
  }
  if (!exposure_warning.empty()) spdlog::warn("{}", exposure_warning);

  if (auto st = make_data_dir(cfg.data_dir); !st) {
    std::cerr << "Error: " << st.message() << "\n";
    return 1;
  }
  auto lock = lock_data_dir(cfg.data_dir);
  if (!lock) {
    std::cerr << "Error: " << lock.message() << "\n";
    return 1;
  }
  auto store_r = state::StateStore::open(cfg.data_dir);
  if (!store_r) {
    std::cerr << "Error: " << store_r.message() << "\n";
    return 1;
  }
  auto store = std::move(store_r.value());
  // The upstream block, read once for those below that need etcd in cluster mode (tokens,
  // variables, the service catalog); its errors are reported where the upstream starts
  // (NodeServices), so a bad block means standalone here.
  upstream::UpstreamConfig ucfg;
  {
    std::string uerrors;
    if (cfg.upstream.is_object()) upstream::parse_upstream_config(cfg.upstream, ucfg, uerrors);
    if (!uerrors.empty()) ucfg = upstream::UpstreamConfig{};
  }
  const bool cluster = ucfg.backend == "etcd";
  std::unique_ptr<api::AclStore> acl;
  std::string bootstrap_secret;
  if (cfg.acl_enabled) {
    auto acl_r = api::AclStore::open(store.get(), &bootstrap_secret);
    if (!acl_r) {
      std::cerr << "Error: " << acl_r.message() << "\n";
      return 1;
    }
    acl = std::move(acl_r.value());
  }
  // In cluster mode the servers' tokens count here too (api/agent_tokens.hpp).
  std::unique_ptr<api::EtcdTokenStore> cluster_tokens;
  std::unique_ptr<api::AgentTokens> tokens;
  if (acl) {
    if (cluster) cluster_tokens = std::make_unique<api::EtcdTokenStore>(ucfg.etcd);
    tokens = std::make_unique<api::AgentTokens>(*acl, cluster_tokens.get());
  }
  // Nomad Variables (docs/variables.md): sealed by the keyring, kept in the state store, or
  // in etcd in cluster mode, where every node must hold the same keyring_file.
  std::unique_ptr<vars::VariableStore> variables;
  std::unique_ptr<vars::WorkloadIdentity> identity;
  {
    // Without the cluster's keyring_file a cluster agent runs its allocs as before but keeps
    // no variables (each would be sealed with a key no other node has); its own keyring still
    // signs its tasks' identities, which only this agent checks.
    const std::string no_shared_key =
        "variables: this agent is in cluster mode (upstream.backend etcd) without keyring_file: "
        "every node must seal and open the cluster's variables with the same key (make one with "
        "`openssl rand -base64 32 > /etc/drover/keyring; chmod 600 /etc/drover/keyring`, copy "
        "it to every node, and set keyring_file)";
    if (cluster && cfg.keyring_file.empty()) spdlog::warn("{}", no_shared_key);
    auto keyring_r = cfg.keyring_file.empty()
                         ? vars::Keyring::open_local(cfg.data_dir / "keyring")
                         : vars::Keyring::open_shared(cfg.keyring_file);
    if (!keyring_r) {
      std::cerr << "Error: " << keyring_r.message() << "\n";
      return 1;
    }
    std::shared_ptr<vars::Keyring> keyring = std::move(keyring_r.value());
    variables = std::make_unique<vars::VariableStore>(
        !cluster                   ? vars::make_state_store_backend(*store)
        : cfg.keyring_file.empty() ? vars::make_unavailable_backend(no_shared_key)
                                   : vars::make_etcd_backend(ucfg.etcd),
        keyring);
    identity = std::make_unique<vars::WorkloadIdentity>(keyring, cfg.oidc_issuer);
  }
  struct StopVariables {
    vars::VariableStore& v;
    ~StopVariables() { v.stop(); }
  } stop_variables{*variables};

  runner::StepTimings step_timings;  // each start step's time, for /v1/metrics
  runner::RunnerContext rctx;
  rctx.step_timings = &step_timings;
  rctx.store = store.get();
  rctx.identity = identity.get();
  rctx.variables = variables.get();
  rctx.data_dir = cfg.data_dir;
  rctx.runtime_dir = cfg.runtime_dir;
  if (!cfg.data_dir_is_temp) check_runtime_dir(cfg.runtime_dir);
  {
    std::error_code ec;
    rctx.monitor_path = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path() / "drover-monitor";
  }
  rctx.max_kill_timeout = std::chrono::seconds(cfg.max_kill_timeout_s);
  rctx.artifact_limits = cfg.artifact;
  rctx.cni = cfg.cni;
  auto node_id = store->meta("node_id");
  if (!node_id) {
    node_id = random_uuid();
    if (auto st = store->put_meta("node_id", *node_id); !st) {
      std::cerr << "Error: " << st.message() << "\n";
      return 1;
    }
  }
  rctx.node.id = *node_id;
  rctx.node.name = cfg.node_name;
  rctx.node.datacenter = cfg.datacenter;
  rctx.node.meta = cfg.meta;
  // `node meta apply`'s keys over the config's, kept across restarts (runner/node_meta.hpp).
  runner::DynamicMeta dynamic_meta;
  if (auto saved = store->meta("node_meta")) {
    auto d = runner::NodeMeta::from_json(*saved);
    if (!d) {
      std::cerr << "Error: " << d.message() << " (state store meta key node_meta)\n";
      return 1;
    }
    dynamic_meta = std::move(d.value());
  }
  runner::NodeMeta node_meta(cfg.meta, std::move(dynamic_meta), [&store](const std::string& j) {
    return store->put_meta("node_meta", j);
  });
  rctx.node.live_meta = &node_meta;
  rctx.node.node_class = cfg.node_class;
  rctx.node.node_pool = cfg.node_pool;
  rctx.node.host_volumes = cfg.host_volumes;
  // Dynamic host volumes beside the config's, kept across restarts
  // (runner/dynamic_host_volumes.hpp).
  runner::DynamicHostVolumes host_volumes(
      {cfg.host_volumes_dir.empty() ? cfg.data_dir / "host_volumes"
                                    : std::filesystem::path(cfg.host_volumes_dir),
       cfg.host_volume_plugin_dir.empty() ? cfg.data_dir / "host_volume_plugins"
                                          : std::filesystem::path(cfg.host_volume_plugin_dir),
       *node_id, cfg.node_pool},
      cfg.host_volumes, store.get());
  if (auto st = host_volumes.load(); !st) {
    std::cerr << "Error: " << st.message() << "\n";
    return 1;
  }
  rctx.node.live_volumes = &host_volumes;
  rctx.node.attributes = fingerprint_node(cfg.data_dir);

  // Cgroups: every task is held to its resources, so an agent that cannot do that refuses
  // to start rather than run tasks unconfined.
  auto host = cgroups::detect();
  if (!host) {
    std::cerr << "Error: " << host.message() << "\n";
    return 1;
  }
  if (auto st = cgroups::check_usable(host.value()); !st) {
    std::cerr << "Error: " << st.message() << "\n";
    return 1;
  }
  // A dev agent with a throwaway data dir gets a parent of its own, named after its node, so
  // that it never shares (or cleans up) a production agent's cgroups (docs/security.md).
  std::string base = cfg.dev && cfg.data_dir_is_temp ? "drover-dev-" + node_id->substr(0, 8) : "drover";
  auto parent = !cfg.cgroup_parent.empty() ? cfg.cgroup_parent
                : host->mode == cgroups::Mode::V2 ? base + ".slice"
                                                  : base;
  auto cg_manager = cgroups::Manager::open(host.value(), parent, cfg.cgroup_backend);
  if (!cg_manager) {
    std::cerr << "Error: cgroups: " << cg_manager.message() << "\n";
    return 1;
  }
  auto pool = cgroups::CpusetPool::from_host(cfg.reserved_cores);
  if (!pool) {
    std::cerr << "Error: reserved.cores: " << pool.message() << "\n";
    return 1;
  }
  auto& attrs = rctx.node.attributes;
  attrs["os.cgroups.version"] = host->mode == cgroups::Mode::V2 ? "2" : "1";
  attrs["unique.cgroup.version"] = host->mode == cgroups::Mode::V2 ? "v2" : "v1";
  attrs["unique.cgroup.mountpoint"] = host->root.string();
  attrs["unique.cgroup.parent"] = parent;
  runner::apply_favor_dynmods(host.value(), cfg.cgroup_favor_dynmods, attrs);
  attrs["cpu.reservablecores"] = std::to_string(pool->cores().size());
  runner::NodeCapacity capacity;
  capacity.cpu_mhz = std::stoll(attrs.count("cpu.totalcompute") ? attrs["cpu.totalcompute"] : "0") -
                     cfg.reserved_cpu_mhz;
  capacity.memory_mb = (std::stoll(attrs.count("memory.totalbytes") ? attrs["memory.totalbytes"] : "0") >> 20) -
                       cfg.reserved_memory_mb;
  capacity.default_pids_max = cfg.default_pids_max;
  attrs["cpu.usablecompute"] = std::to_string(capacity.cpu_mhz);
  runner::NodeResources resources(std::move(cg_manager.value()), std::move(pool.value()),
                                  store.get(), capacity);
  rctx.resources = &resources;

  plugins::PluginRegistry registry;
  registry.load_dir(cfg.plugin_dir, cfg.plugins);
  rctx.plugins = &registry;
  // Driver health for admission comes from the node watcher once it runs (made below).
  std::atomic<NodeWatcher*> watcher{nullptr};
  AdmissionNode admission_node(rctx.node, registry, watcher);
  runner::JobAdmission admission(
      registry,
      [&watcher] {
        auto* w = watcher.load();
        return w ? w->drivers() : nlohmann::json::object();
      },
      // Constraints are judged against the node as GET /v1/node shows it.
      [&admission_node] { return admission_node(); }, cfg.cni);
  rctx.admission = &admission;
  runner::DeviceManager devices(&registry, store.get());
  resources.set_devices(&devices);

  // Ports (docs/networking.md): the default network is network_interface's address (the
  // default route's interface when unset, loopback in -dev), plus the configured host networks.
  runner::PortConfig port_cfg;
  port_cfg.min_dynamic = cfg.min_dynamic_port;
  port_cfg.max_dynamic = cfg.max_dynamic_port;
  if (auto r = runner::parse_port_list(cfg.reserved_ports)) port_cfg.reserved = std::move(*r);
  {
    auto& def = port_cfg.default_network;
    def.name = "default";
    def.interface =
        cfg.network_interface.empty() ? runner::default_route_interface() : cfg.network_interface;
    def.address = def.interface.empty() ? "" : runner::interface_address(def.interface);
    if (def.address.empty() && !cfg.network_interface.empty()) {
      std::cerr << "Error: network_interface: \"" << cfg.network_interface
                << "\" has no IPv4 address on this host\n";
      return 1;
    }
    if (def.address.empty()) {
      spdlog::warn("no default route with an IPv4 address: ports are handed out on 127.0.0.1 "
                   "(set network_interface)");
      def.interface = "lo";
      def.address = "127.0.0.1";
    }
  }
  if (auto hn = runner::resolve_host_networks(cfg.host_networks); !hn) {
    std::cerr << "Error: " << hn.message() << "\n";
    return 1;
  } else {
    for (const auto& n : hn.value())
      if (n.address.empty())
        spdlog::warn("host_network {}: no address on this host matches {}; ports asking for it "
                     "will not fit", n.name, n.cidr.empty() ? "interface " + n.interface : n.cidr);
    port_cfg.host_networks = std::move(hn.value());
  }
  runner::PortAllocator ports(std::move(port_cfg));
  resources.set_ports(&ports);

  // The service catalog (docs/networking.md, "Services and the catalog"): in etcd with the
  // cluster, else in the state store. Made before the manager, whose tasks register in it, and
  // gone after it.
  std::unique_ptr<catalog::Catalog> service_catalog;
  catalog::LocalCatalog* local_catalog = nullptr;
  catalog::EtcdCatalog* etcd_catalog = nullptr;
  {
    if (cluster) {
      auto c = std::make_unique<catalog::EtcdCatalog>(ucfg.etcd);
      etcd_catalog = c.get();
      service_catalog = std::move(c);
    } else {
      auto c = catalog::LocalCatalog::open(*store);
      if (!c) {
        std::cerr << "Error: service catalog: " << c.message() << "\n";
        return 1;
      }
      local_catalog = c.value().get();
      service_catalog = std::move(c.value());
    }
  }
  rctx.catalog = service_catalog.get();

  runner::AllocManager manager(rctx);
  // Drivers' own task events (image pull progress) land on their task. Cleared before the
  // manager goes: a plugin may emit until its fini, which runs after.
  registry.set_task_event_handler(
      [&manager](const std::string& alloc_id, const std::string& task, const nlohmann::json& e) {
        state::TaskEvent ev;
        ev.type = e["Type"].get<std::string>();
        ev.message = e["Message"].get<std::string>();
        for (const auto& [k, v] : e["Details"].items()) ev.details[k] = v.get<std::string>();
        manager.record_task_event(alloc_id, task, std::move(ev));
      });
  struct ClearEventHandler {
    plugins::PluginRegistry& registry;
    ~ClearEventHandler() { registry.set_task_event_handler(nullptr); }
  } clear_event_handler{registry};
  const std::string http_addr = cfg.bind_addr + ":" + std::to_string(cfg.port);
  auto services_r = upstream::NodeServices::create(cfg.upstream, manager, [&] {
    return node_json(rctx.node, registry, &resources, watcher.load(), http_addr);
  });
  if (!services_r) {
    std::cerr << "Error: " << services_r.message() << "\n";
    return 1;
  }
  auto& services = *services_r.value();
  manager.set_on_alloc_change([&services](const state::Alloc& a) { services.alloc_changed(a); });
  // Periodic jobs' children (runner/periodic_launcher.hpp); started once allocs are recovered,
  // so that prohibit_overlap sees the children that still run.
  runner::PeriodicLauncher launcher(manager, *store);
  manager.set_on_job_change([&launcher](const state::JobKey& job) { launcher.job_changed(job); });

  // Driver health and free storage, re-read every fingerprint_period; changes are node events.
  NodeWatcher node_watcher(cfg.data_dir, registry, cfg.fingerprint_period,
                           [&services, &node_id](const nlohmann::json& e) {
                             services.events().publish("Node", "NodeEvent", *node_id, e);
                             services.upstream().node_changed();
                           });
  node_watcher.set_cni_config_dir(cfg.cni.config_dir);
  node_watcher.start();
  watcher = &node_watcher;
  struct UnsetWatcher {
    std::atomic<NodeWatcher*>& w;
    ~UnsetWatcher() { w = nullptr; }
  } unset_watcher{watcher};

  api::ApiContext actx;
  actx.node_watcher = &node_watcher;
  actx.http_addr = http_addr;
  actx.allocs = &manager;
  actx.periodic = &launcher;
  actx.plugins = &registry;
  actx.resources = &resources;
  actx.node = &manager.ctx().node;
  actx.node_meta = &node_meta;
  // A new node document upstream (a server places by it), and an event for the UI.
  actx.node_meta_changed = [&services, &node_id](const nlohmann::json& meta) {
    services.events().publish("Node", "NodeMetadata", *node_id, {{"Meta", meta}});
    services.upstream().node_changed();
  };
  actx.node_now = [&admission_node] { return admission_node(); };
  actx.host_volumes = &host_volumes;
  actx.host_volumes_changed = [&services] { services.upstream().node_changed(); };
  actx.max_request_bytes = cfg.max_request_bytes;
  actx.version = DROVER_VERSION;
  actx.log_monitor = &log_monitor;
  actx.acl = tokens.get();
  actx.vars = variables.get();
  actx.identity = identity.get();
  actx.tls = cfg.tls;
  actx.max_conns_per_client = static_cast<std::size_t>(cfg.http_max_conns_per_client);
  actx.allowed_hosts = api::allowed_host_names(cfg.node_name, cfg.bind_addr, cfg.http_allowed_hosts);
  services.fill(actx);
  actx.catalog = service_catalog.get();
  api::HttpApi http(actx);
  if (auto st = http.bind(cfg.bind_addr, cfg.port); !st) {
    std::cerr << "Error: " << st.message() << "\n";
    return 1;
  }
  // Recover before serving, so the API never shows a half-recovered node.
  manager.recover();
  {
    // Task cgroups and core reservations of this agent's allocs that no task holds go. Only
    // this agent's: an alloc it knows, or whose dir is in its data dir; another agent on the
    // same cgroup parent (a second data dir) keeps its tasks.
    std::set<std::string> live, known;
    for (const auto& a : manager.allocs()) {
      known.insert(a.id);
      if (!a.terminal())
        for (const auto& [task, ts] : a.tasks)
          if (ts.state != state::TaskPhase::Dead) live.insert(runner::NodeResources::cgroup_name(a.id, task));
    }
    const auto alloc_root = runner::alloc_dir_for(cfg.data_dir, "x").root.parent_path();
    resources.cleanup_orphans(live, [&](const std::string& alloc_id) {
      std::error_code ec;
      return known.count(alloc_id) > 0 || std::filesystem::exists(alloc_root / alloc_id, ec);
    });
    // The recovered tasks' stats, then every task's once per collection_interval.
    resources.track_recovered(live);
    resources.start_stats(cfg.collection_interval);
  }
  {
    // What a driver left for allocs this agent does not know (it died between creating a
    // container and persisting the alloc) goes now, not after the driver's grace period.
    // Every alloc dir is <data_dir>/alloc/<id>: another agent's tasks have theirs elsewhere.
    const auto root = runner::alloc_dir_for(cfg.data_dir, "x").root.parent_path().string();
    std::vector<std::string> known;
    for (const auto& a : manager.allocs()) known.push_back(a.id);
    for (const auto& name : registry.driver_names())
      if (auto* d = registry.driver(name); d && d->supports_reap())
        if (auto st = d->reap(known, root); !st) spdlog::warn("{}", st.message());
  }
  if (local_catalog) {
    // Registrations of tasks that no longer run (they ended while no agent was there); the
    // recovered ones registered again above.
    std::set<std::pair<std::string, std::string>> running;
    for (const auto& a : manager.allocs())
      if (!a.terminal())
        for (const auto& [task, ts] : a.tasks)
          if (ts.state != state::TaskPhase::Dead) running.emplace(a.id, task);
    int n = local_catalog->prune([&](const catalog::ServiceRegistration& r) {
      return running.count({r.alloc_id, r.task}) > 0;
    });
    if (n) spdlog::info("removed {} service registrations of tasks that no longer run", n);
  }
  if (etcd_catalog) etcd_catalog->start();
  launcher.start();
  // The banner (with a bootstrap token's only showing) is out before the API answers: whoever
  // waits for /v1/agent/health then finds the secret already printed.
  std::cout << "==> drover agent started! Log data will stream in below:\n\n"
            << "       Version: " << DROVER_VERSION << "\n"
            << "          Node: " << cfg.node_name << " (" << *node_id << ")\n"
            << "    Datacenter: " << cfg.datacenter << "\n"
            << "      Data dir: " << cfg.data_dir.string() << "\n"
            << "    Plugin dir: " << cfg.plugin_dir.string() << "\n"
            << "           API: " << (cfg.tls.enabled() ? "https://" : "http://") << cfg.bind_addr << ":" << cfg.port << "\n"
            << "       Drivers: ";
  for (const auto& d : registry.driver_names()) std::cout << d << " ";
  std::cout << (cfg.dev ? "\n      Dev mode: on (raw_exec enabled)\n" : "\n");
  std::cout << "          ACLs: " << (cfg.acl_enabled ? "enabled" : "disabled") << "\n";
  if (!bootstrap_secret.empty())
    // Printed this once; only its hash is stored. Lose it and the operator starts over.
    std::cout << "\n==> ACL bootstrap: a management token was created. Save its secret now, it is "
                 "not shown again:\n\n"
              << "     Secret ID: " << bootstrap_secret << "\n";
  std::cout << "\n" << std::flush;
  std::thread server([&] { http.serve(); });
  services.start();
  spdlog::info("agent ready on {}:{}", cfg.bind_addr, cfg.port);
  // Only now: state is recovered and the API answers, so `systemctl start` returning means
  // the node is usable.
  SystemdNotifier systemd;
  systemd.ready("API on " + cfg.bind_addr + ":" + std::to_string(cfg.port));

  // Garbage collection of terminal allocs, on the agent's monotonic clock; then the heap pages
  // that work freed go back to the kernel (core/heap_trim.hpp).
  std::mutex gc_mu;
  std::condition_variable gc_cv;
  bool gc_stop = false;
  std::thread gc([&] {
    std::unique_lock lock(gc_mu);
    while (!gc_cv.wait_for(lock, cfg.gc_interval, [&] { return gc_stop; })) {
      lock.unlock();
      if (int over = manager.enforce_disk_budgets())
        spdlog::info("gc failed {} allocs over their ephemeral_disk size", over);
      int n = manager.gc(cfg.gc_max_allocs, cfg.gc_disk_usage_threshold);
      if (n) spdlog::info("gc removed {} terminal allocs", n);
      int jobs = manager.gc_jobs(cfg.job_gc_threshold);
      if (jobs) spdlog::info("gc removed {} dead jobs older than job_gc_threshold", jobs);
      if (auto t = trim_free_heap(); t.trimmed)
        spdlog::debug("gc gave freed heap back: {:.1f} MiB were free, trim took {:.2f} ms",
                      t.free_bytes / 1048576.0, t.millis);
      lock.lock();
    }
  });

  int sig = 0;
  sigwait(&sigs, &sig);
  systemd.stopping();
  {
    std::lock_guard lock(gc_mu);
    gc_stop = true;
  }
  gc_cv.notify_all();
  gc.join();
  spdlog::info("caught {}, shutting down; tasks keep running", strsignal(sig));
  node_watcher.stop();
  services.stop();  // first: event streams end, so the API can stop
  log_monitor.close();  // so do the monitors' streams
  http.stop();
  server.join();
  launcher.stop();
  if (cfg.dev && cfg.data_dir_is_temp) {
    // Nothing could ever recover tasks whose state lives in a temp dir: stop them.
    for (const auto& a : manager.allocs())
      if (!a.terminal()) (void)manager.stop_alloc(a.id);
    auto deadline = std::chrono::steady_clock::now() + rctx.max_kill_timeout + std::chrono::seconds(2);
    auto all_terminal = [&] {
      for (const auto& a : manager.allocs())
        if (!a.terminal()) return false;
      return true;
    };
    while (!all_terminal() && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  manager.shutdown();
  if (cfg.dev && cfg.data_dir_is_temp) {
    std::error_code ec;
    std::filesystem::remove_all(cfg.data_dir, ec);
    // Its own parent cgroup, named after its node, goes too (only where the stops above left
    // it empty).
    if (cfg.cgroup_parent.empty()) (void)resources.remove_parent_cgroup();
  }
  ::close(lock.value());
  return 0;
}

}  // namespace drover::agent
