// HCL's IP network functions (Terraform's, in Nomad's jobspec2): cidrhost, cidrnetmask,
// cidrsubnet, cidrsubnets, for IPv4 and IPv6 prefixes. Addresses are 128-bit numbers here,
// with an IPv4 one in the low 32 bits.
#include <arpa/inet.h>

#include "jobspec/hcl/function_call.hpp"

namespace drover::jobspec::hcl {

namespace {

using u128 = unsigned __int128;

struct Prefix {
  u128 addr = 0;  // the network address (host bits cleared)
  int bits = 0;   // 32 or 128
  int len = 0;    // the prefix length
};

Prefix parse_prefix(const Call& c, std::size_t i) {
  const std::string text = c.str(i);
  auto slash = text.find('/');
  if (slash == std::string::npos) c.fail("\"" + text + "\" is not a CIDR prefix such as 10.0.0.0/8");
  const std::string ip = text.substr(0, slash), len = text.substr(slash + 1);
  Prefix p;
  unsigned char buf[16];
  if (inet_pton(AF_INET, ip.c_str(), buf) == 1) {
    p.bits = 32;
    for (int b = 0; b < 4; ++b) p.addr = (p.addr << 8) | buf[b];
  } else if (inet_pton(AF_INET6, ip.c_str(), buf) == 1) {
    p.bits = 128;
    for (int b = 0; b < 16; ++b) p.addr = (p.addr << 8) | buf[b];
  } else {
    c.fail("\"" + ip + "\" is not an IP address");
  }
  if (len.empty() || len.size() > 3 || len.find_first_not_of("0123456789") != std::string::npos ||
      std::stoi(len) > p.bits)
    c.fail("\"" + len + "\" is not a prefix length for " + (p.bits == 32 ? "IPv4" : "IPv6"));
  p.len = std::stoi(len);
  if (p.len < p.bits) p.addr &= ~((u128(1) << (p.bits - p.len)) - 1);
  return p;
}

std::string format_addr(u128 a, int bits) {
  char out[INET6_ADDRSTRLEN];
  unsigned char buf[16];
  const int n = bits / 8;
  for (int b = n - 1; b >= 0; --b, a >>= 8) buf[b] = static_cast<unsigned char>(a & 0xff);
  inet_ntop(bits == 32 ? AF_INET : AF_INET6, buf, out, sizeof out);
  return out;
}

// The `num`th subnet of `p` with `newbits` more prefix bits.
Prefix subnet(const Call& c, const Prefix& p, std::int64_t newbits, std::int64_t num) {
  if (newbits < 0 || p.len + newbits > p.bits)
    c.fail("a prefix extended by " + std::to_string(newbits) + " bits would be longer than " +
           std::to_string(p.bits) + " bits");
  if (newbits < 63 && (num < 0 || num >= (std::int64_t(1) << newbits)))
    c.fail("subnet number " + std::to_string(num) + " does not fit in " + std::to_string(newbits) +
           " bits");
  Prefix out = p;
  out.len = p.len + static_cast<int>(newbits);
  out.addr = p.addr | (u128(static_cast<std::uint64_t>(num)) << (p.bits - out.len));
  return out;
}

}  // namespace

void add_net_functions(FunctionTable& t) {
  t["cidrhost"] = {2, 2, [](const Call& c) -> json {
    Prefix p = parse_prefix(c, 0);
    std::int64_t host = c.integer(1);
    const int host_bits = p.bits - p.len;
    const u128 size = host_bits >= 127 ? ~u128(0) : u128(1) << host_bits;
    u128 offset = host >= 0 ? u128(static_cast<std::uint64_t>(host))
                            : size - u128(static_cast<std::uint64_t>(-host));
    if (host_bits < 64 && (host >= 0 ? offset >= size : u128(static_cast<std::uint64_t>(-host)) > size))
      c.fail("host number " + std::to_string(host) + " is outside the prefix's " +
             std::to_string(host_bits) + " host bits");
    return format_addr(p.addr + offset, p.bits);
  }};
  t["cidrnetmask"] = {1, 1, [](const Call& c) -> json {
    Prefix p = parse_prefix(c, 0);
    if (p.bits != 32) c.fail("only IPv4 prefixes have a netmask");
    u128 mask = p.len == 0 ? 0 : ((u128(1) << 32) - 1) & ~((u128(1) << (32 - p.len)) - 1);
    return format_addr(mask, 32);
  }};
  t["cidrsubnet"] = {3, 3, [](const Call& c) -> json {
    Prefix p = subnet(c, parse_prefix(c, 0), c.integer(1), c.integer(2));
    return format_addr(p.addr, p.bits) + "/" + std::to_string(p.len);
  }};
  // Consecutive subnets of the given sizes, each aligned to its own size (Terraform's rule).
  t["cidrsubnets"] = {1, -1, [](const Call& c) -> json {
    Prefix base = parse_prefix(c, 0);
    json out = json::array();
    u128 next = base.addr;
    const u128 end = base.len == 0 ? ~u128(0) : base.addr + ((u128(1) << (base.bits - base.len)) - 1);
    for (std::size_t i = 1; i < c.args.size(); ++i) {
      std::int64_t newbits = c.integer(i);
      Prefix p = subnet(c, base, newbits, 0);
      const u128 size = u128(1) << (p.bits - p.len);
      next = (next + size - 1) / size * size;
      if (next + size - 1 > end || next + size - 1 < next)
        c.fail("not enough room in " + c.str(0) + " for subnet " + std::to_string(i) + " (/" +
               std::to_string(p.len) + ")");
      out.push_back(format_addr(next, p.bits) + "/" + std::to_string(p.len));
      next += size;
    }
    return out;
  }};
}

}  // namespace drover::jobspec::hcl
