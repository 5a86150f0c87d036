// `drover tls ca create|info` and `drover tls cert create|info`, Nomad's `nomad tls` (1.4):
// the CA and the certificates a cluster's servers, client agents and CLI users need for the
// `tls:` block (docs/security.md, "Making the certificates"), written to the current
// directory under Nomad's names, never over an existing file. Works offline: no agent is
// asked.
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "cli/command_context.hpp"
#include "cli/table.hpp"
#include "cli/time_format.hpp"
#include "cli/tls_certs.hpp"

namespace drover::cli {
namespace {

struct CaCreateOptions {
  CaOptions ca;
  std::string domain = "nomad";
  bool name_constraint = false;
  std::vector<std::string> additional_domains;
};

struct CertCreateOptions {
  bool server = false, client = false, cli = false;
  int days = 365;
  std::string domain = "nomad", region = "global";
  std::string ca = "#DOMAIN#-agent-ca.pem", key = "#DOMAIN#-agent-ca-key.pem";
  std::vector<std::string> dns_names, ip_addresses;
};

bool exists(const std::string& path) { return ::access(path.c_str(), F_OK) == 0; }

Result<std::string> read_text(const std::string& path, const std::string& what) {
  std::ifstream in(path);
  if (!in) return make_error("cannot read " + what + " " + path + ": " + std::strerror(errno));
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

// Both files new, or neither is written.
int write_pair(Context& ctx, const PemPair& pair, const std::string& cert_file,
               const std::string& key_file, const std::string& cert_said, const std::string& key_said) {
  if (auto st = write_new_file(cert_file, pair.cert, 0644); !st) return print_error(ctx, st.message());
  ctx.out << "==> " << cert_said << " saved to: " << cert_file << "\n";
  if (auto st = write_new_file(key_file, pair.key, 0600); !st) {
    ::unlink(cert_file.c_str());
    return print_error(ctx, st.message());
  }
  ctx.out << "==> " << key_said << " saved to: " << key_file << "\n";
  return 0;
}

int ca_create(Context& ctx, const CaCreateOptions& o) {
  // Nomad's rules for the name constraint.
  if (o.domain != "nomad" && !o.name_constraint)
    return print_error(ctx, "domain: a domain other than \"nomad\" needs -name-constraint");
  if (o.domain == "nomad" && o.name_constraint)
    return print_error(ctx, "name-constraint: give the cluster's -domain to constrain names to");
  if (!o.additional_domains.empty() && !o.name_constraint)
    return print_error(ctx, "additional-domain: only with -name-constraint");
  const std::string cert_file = o.domain + "-agent-ca.pem", key_file = o.domain + "-agent-ca-key.pem";
  if (exists(cert_file)) return print_error(ctx, "CA certificate file \"" + cert_file + "\" already exists");
  if (exists(key_file)) return print_error(ctx, "CA key file \"" + key_file + "\" already exists");
  CaOptions ca = o.ca;
  if (o.name_constraint) {
    ca.permitted_dns_domains = {o.domain, "localhost", "nomad"};
    ca.permitted_dns_domains.insert(ca.permitted_dns_domains.end(), o.additional_domains.begin(),
                                    o.additional_domains.end());
  }
  auto pair = make_ca(ca);
  if (!pair) return print_error(ctx, pair.message());
  return write_pair(ctx, pair.value(), cert_file, key_file, "CA certificate", "CA certificate key");
}

int cert_create(Context& ctx, const CertCreateOptions& o) {
  if (o.server + o.client + o.cli != 1) return print_error(ctx, "give one of -server, -client or -cli");
  const std::string role = o.server ? "server" : o.client ? "client" : "cli";
  const std::string prefix = o.region + "-" + role + "-" + o.domain;
  const std::string cert_file = prefix + ".pem", key_file = prefix + "-key.pem";
  if (exists(cert_file)) return print_error(ctx, "certificate file \"" + cert_file + "\" already exists");
  if (exists(key_file)) return print_error(ctx, "key file \"" + key_file + "\" already exists");
  auto domain_of = [&](std::string path) {
    if (auto at = path.find("#DOMAIN#"); at != std::string::npos) path.replace(at, 8, o.domain);
    return path;
  };
  const std::string ca_file = domain_of(o.ca), ca_key_file = domain_of(o.key);
  auto ca_pem = read_text(ca_file, "the CA certificate");
  if (!ca_pem) return print_error(ctx, ca_pem.message());
  auto ca_key = read_text(ca_key_file, "the CA key");
  if (!ca_key) return print_error(ctx, ca_key.message());
  // Nomad's names: "server.global.nomad", which servers check of each other, and localhost;
  // 127.0.0.1 for a server or client agent, which the local CLI calls.
  CertOptions c;
  c.ca_cert_pem = ca_pem.value();
  c.ca_key_pem = ca_key.value();
  c.common_name = role + "." + o.region + "." + o.domain;
  c.days = o.days;
  c.dns_names = o.dns_names;
  c.dns_names.push_back(c.common_name);
  c.dns_names.push_back("localhost");
  c.ip_addresses = o.ip_addresses;
  if (!o.cli) c.ip_addresses.push_back("127.0.0.1");
  if (o.server)
    ctx.err << "==> WARNING: whoever holds a server certificate can answer as a server at the\n"
               "    names and addresses it lists: agents and the CLI trust it with their tokens.\n"
               "    Give it to server hosts only, and keep it as safely as the CA key.\n";
  ctx.out << "==> Using CA file " << ca_file << " and CA key " << ca_key_file << "\n";
  auto pair = make_cert(c);
  if (!pair) return print_error(ctx, pair.message());
  // As Nomad: the certificate must check against its CA for its own name before it is kept.
  if (auto st = verify_cert(c.ca_cert_pem, pair->cert, c.common_name); !st)
    return print_error(ctx, st.message());
  const std::string said = o.server ? "Server Certificate" : o.client ? "Client Certificate" : "CLI Certificate";
  return write_pair(ctx, pair.value(), cert_file, key_file, said, said + " key");
}

std::string listed(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out.empty() ? "<none>" : out;
}

int info(Context& ctx, const std::string& file, bool ca) {
  auto pem = read_text(file, ca ? "the CA file" : "the certificate file");
  if (!pem) return print_error(ctx, pem.message());
  auto i = read_cert_info(pem.value());
  if (!i) return print_error(ctx, file + ": " + i.message());
  if (ctx.json) {
    nlohmann::json j = {{"SerialNumber", i->serial},
                        {"IssuerCN", i->issuer_cn},
                        {"Subject", i->subject},
                        {"NotBefore", format_unix_nanos(i->not_before * 1000000000)},
                        {"NotAfter", format_unix_nanos(i->not_after * 1000000000)},
                        {"IsCA", i->is_ca},
                        {"DNSNames", i->dns_names},
                        {"IPAddresses", i->ip_addresses},
                        {"PermittedDNSDomains", i->permitted_dns_domains}};
    print_json(ctx, j);
    return 0;
  }
  KeyValues rows = {{"Serial Number", i->serial},
                    {"Issuer CN", i->issuer_cn},
                    {"Common Name", i->subject},
                    {"Valid From", format_unix_nanos(i->not_before * 1000000000)},
                    {"Expiry Date", format_unix_nanos(i->not_after * 1000000000)}};
  if (ca) {
    rows.emplace_back("Permitted DNS Domains", listed(i->permitted_dns_domains));
  } else {
    rows.emplace_back("DNS Names", listed(i->dns_names));
    rows.emplace_back("IP Addresses", listed(i->ip_addresses));
  }
  render_key_values(ctx.out, rows);
  return 0;
}

void add_info_command(CLI::App* parent, Handler& selected, bool ca) {
  auto* cmd = parent->add_subcommand("info", ca ? "Show a CA certificate: its names, serial and expiry"
                                                : "Show a certificate: its names, addresses, serial and expiry");
  auto file = std::make_shared<std::string>();
  cmd->add_option("file", *file, ca ? "The CA certificate (PEM)" : "The certificate (PEM)")->required();
  cmd->callback([&selected, file, ca] {
    selected = [file, ca](Context& ctx) { return info(ctx, *file, ca); };
  });
}

}  // namespace

void add_tls_commands(CLI::App& app, Handler& selected) {
  auto* tls = app.add_subcommand("tls", "Make the CA and certificates for the API's TLS (offline)");
  tls->require_subcommand(1);
  auto* ca = tls->add_subcommand("ca", "The certificate authority");
  ca->require_subcommand(1);
  auto* ca_create_cmd = ca->add_subcommand(
      "create", "Make a CA: <domain>-agent-ca.pem and <domain>-agent-ca-key.pem, here");
  auto co = std::make_shared<CaCreateOptions>();
  ca_create_cmd->add_option("--days", co->ca.days, "How long it is valid (default 1825 days)");
  ca_create_cmd->add_option("--domain", co->domain, "The cluster's domain (default nomad; with -name-constraint)");
  ca_create_cmd->add_flag("--name-constraint", co->name_constraint,
                          "Refuse certificates for DNS names outside -domain, localhost, nomad and "
                          "each -additional-domain");
  ca_create_cmd->add_option("--additional-domain", co->additional_domains,
                            "A further DNS zone the CA permits (repeatable; with -name-constraint)")
      ->allow_extra_args(false);
  ca_create_cmd->add_option("--common-name", co->ca.common_name, "Default \"Nomad Agent CA\"");
  ca_create_cmd->add_option("--country", co->ca.country, "Default \"US\"");
  ca_create_cmd->add_option("--postal-code", co->ca.postal_code, "Default \"94105\"");
  ca_create_cmd->add_option("--province", co->ca.province, "Default \"CA\"");
  ca_create_cmd->add_option("--locality", co->ca.locality, "Default \"San Francisco\"");
  ca_create_cmd->add_option("--street-address", co->ca.street_address, "Default \"101 Second Street\"");
  ca_create_cmd->add_option("--organization", co->ca.organization, "Default \"HashiCorp Inc.\"");
  ca_create_cmd->add_option("--organizational-unit", co->ca.organizational_unit, "Default \"Nomad\"");
  ca_create_cmd->callback([&selected, co] {
    selected = [co](Context& ctx) { return ca_create(ctx, *co); };
  });
  add_info_command(ca, selected, true);

  auto* cert = tls->add_subcommand("cert", "Certificates signed by the CA");
  cert->require_subcommand(1);
  auto* cert_create_cmd = cert->add_subcommand(
      "create", "Make a certificate for a server, a client agent or the CLI: "
                "<region>-<role>-<domain>.pem and -key.pem, here");
  auto o = std::make_shared<CertCreateOptions>();
  cert_create_cmd->add_flag("--server", o->server, "For a drover server");
  cert_create_cmd->add_flag("--client", o->client, "For a client agent");
  cert_create_cmd->add_flag("--cli", o->cli, "For the CLI (and other API callers)");
  cert_create_cmd->add_option("--ca", o->ca, "The CA certificate (default <domain>-agent-ca.pem)");
  cert_create_cmd->add_option("--key", o->key, "The CA key (default <domain>-agent-ca-key.pem)");
  cert_create_cmd->add_option("--days", o->days, "How long it is valid (default 365 days)");
  cert_create_cmd->add_option("--domain", o->domain, "The cluster's domain (default nomad)");
  cert_create_cmd->add_option("--region", o->region, "The region in its name (default global)");
  cert_create_cmd->add_option("--additional-dnsname", o->dns_names,
                              "A further DNS name it is valid for (repeatable; localhost always)")
      ->allow_extra_args(false);
  cert_create_cmd->add_option("--additional-ipaddress", o->ip_addresses,
                              "A further IP address it is valid for (repeatable; 127.0.0.1 always "
                              "for -server and -client)")
      ->allow_extra_args(false);
  cert_create_cmd->callback([&selected, o] {
    selected = [o](Context& ctx) { return cert_create(ctx, *o); };
  });
  add_info_command(cert, selected, false);
}

}  // namespace drover::cli
