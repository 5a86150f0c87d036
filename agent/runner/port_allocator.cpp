// Static and dynamic ports for allocs; see port_allocator.hpp.
#include "runner/port_allocator.hpp"

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <random>

namespace drover::runner {

void PortUsage::take(const std::string& ip, int port, const PortHolder& holder) {
  held_[{ip, port}] = holder;
  by_port_.insert(port);
}

void PortUsage::add(const std::vector<state::AllocatedNetwork>& networks,
                    const PortHolder& holder) {
  for (const auto& n : networks)
    for (const auto& p : n.ports) take(p.host_ip, p.value, holder);
}

const PortHolder* PortUsage::on(const std::string& ip, int port) const {
  auto it = held_.find({ip, port});
  return it == held_.end() ? nullptr : &it->second;
}

namespace {

// Whether a TCP socket of `family` can bind `port` on the wildcard address.
bool can_bind(int family, int port) {
  int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return family == AF_INET6;  // no IPv6 on this host: nothing listens there
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  int rc;
  if (family == AF_INET6) {
    // v6 only: the IPv4 side is probed on its own, and a v4 listener is not a v6 conflict.
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_any;
    a.sin6_port = htons(static_cast<uint16_t>(port));
    rc = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  } else {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_ANY);
    a.sin_port = htons(static_cast<uint16_t>(port));
    rc = ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  }
  ::close(fd);
  return rc == 0 || (family == AF_INET6 && errno == EADDRNOTAVAIL);
}

std::string label_of(const jobspec::Port& p, const std::string& task) {
  return "port \"" + p.label + "\"" + (task.empty() ? "" : " of task \"" + task + "\"");
}

std::string holder_text(const PortHolder& h) {
  if (h.placing)
    return "another alloc of job \"" + h.job_id +
           "\" placed with it (allocs on one node cannot share a static port)";
  return "alloc " + h.alloc_id + " (job \"" + h.job_id + "\")";
}

}  // namespace

bool host_port_free(int port) { return can_bind(AF_INET, port) && can_bind(AF_INET6, port); }

PortAllocator::PortAllocator(PortConfig cfg, HostProbe probe)
    : cfg_(std::move(cfg)), probe_(std::move(probe)) {}

const HostNetwork* PortAllocator::network(const std::string& name) const {
  if (name.empty() || name == "default") return &cfg_.default_network;
  for (const auto& n : cfg_.host_networks)
    if (n.name == name) return &n;
  return nullptr;
}

Result<int> PortAllocator::dynamic_port(const HostNetwork& net, const PortUsage& usage) const {
  // A random start, as Nomad picks randomly: a port an alloc just gave back (its clients may
  // still be reconnecting to it) is not the next one handed out.
  static thread_local std::mt19937 rng(std::random_device{}());
  const int span = cfg_.max_dynamic - cfg_.min_dynamic + 1;
  const int start = std::uniform_int_distribution<int>(0, span - 1)(rng);
  int held = 0, busy = 0;
  for (int i = 0; i < span; ++i) {
    int port = cfg_.min_dynamic + (start + i) % span;
    if (cfg_.reserved.count(port) || net.reserved.count(port)) continue;
    // Not handed out twice on any address: a task may well bind the wildcard address.
    if (usage.anywhere(port)) {
      ++held;
      continue;
    }
    if (!probe_(port)) {
      ++busy;
      continue;
    }
    return port;
  }
  return make_error("no free dynamic port in " + std::to_string(cfg_.min_dynamic) + "-" +
                        std::to_string(cfg_.max_dynamic) + " (" + std::to_string(held) +
                        " held by allocs, " + std::to_string(busy) +
                        " in use by other processes on the host, the rest reserved)",
                    Errc::Conflict);
}

Result<std::vector<state::AllocatedNetwork>> PortAllocator::allocate(
    const jobspec::TaskGroup& group, PortUsage& usage, const PortHolder& self) const {
  std::vector<std::pair<std::string, const jobspec::Network*>> blocks;
  for (const auto& n : group.networks) blocks.emplace_back("", &n);
  for (const auto& t : group.tasks)
    for (const auto& n : t.resources.networks) blocks.emplace_back(t.name, &n);
  std::vector<state::AllocatedNetwork> out;
  std::string errors;
  auto fail = [&](const std::string& message) { errors += "; " + message; };
  for (const auto& [task, n] : blocks) {
    state::AllocatedNetwork an;
    an.task = task;
    an.mode = n->mode;
    an.mbits = n->mbits;
    an.ip = cfg_.default_network.address;
    auto place = [&](const jobspec::Port& p, bool reserved) {
      const HostNetwork* net = network(p.host_network);
      if (!net) {
        fail(label_of(p, task) + ": host_network \"" + p.host_network +
             "\" is not configured on this node (agent config host_network)");
        return;
      }
      if (net->address.empty()) {
        fail(label_of(p, task) + ": host network \"" + net->name +
             "\" has no address on this node");
        return;
      }
      int value = p.value;
      if (reserved) {
        const std::string what = "static port " + std::to_string(value) + " (" + label_of(p, task) +
                                 ") on " + net->address;
        if (cfg_.reserved.count(value))
          return fail(what + " is reserved by the agent config (reserved.reserved_ports)");
        if (net->reserved.count(value))
          return fail(what + " is reserved by the agent config (host_network \"" + net->name +
                      "\" reserved_ports)");
        if (const auto* h = usage.on(net->address, value); h && !h->replaced)
          return fail(what + " is held by " + holder_text(*h));
      } else {
        auto picked = dynamic_port(*net, usage);
        if (!picked) return fail(label_of(p, task) + ": " + picked.message());
        value = *picked;
      }
      usage.take(net->address, value, self);
      state::AllocatedPort ap;
      ap.label = p.label;
      ap.value = value;
      ap.to = p.to < 0 ? value : p.to;  // -1: Nomad's "the same as the host port"
      ap.host_ip = net->address;
      ap.host_network = net->name == "default" ? "" : net->name;
      ap.reserved = reserved;
      an.ports.push_back(std::move(ap));
    };
    for (const auto& p : n->reserved_ports) place(p, true);
    for (const auto& p : n->dynamic_ports) place(p, false);
    out.push_back(std::move(an));
  }
  if (!errors.empty()) return make_error(errors.substr(2), Errc::Conflict);
  return out;
}

}  // namespace drover::runner
