// The certificates `drover tls` makes (cli/tls_commands.cpp), as Nomad's `tls ca create` and
// `tls cert create` make them (docs/security.md, "Making the certificates"): an ECDSA P-256 CA,
// and certificates it signs for a server, a client agent or the CLI, each with a fresh P-256
// key. Everything is PEM text; nothing here touches a file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "drover/common/result.hpp"

namespace drover::cli {

struct CaOptions {
  int days = 1825;  // Nomad's: five years
  // Empty: Nomad's defaults ("Nomad Agent CA <serial>", "US", "HashiCorp Inc.", ...); once any
  // is set, common_name, country, organization and organizational_unit are required.
  std::string common_name, country, postal_code, province, locality, street_address,
      organization, organizational_unit;
  // A critical name constraint: certificates for DNS names outside these are refused by
  // whoever checks the chain. Empty: none.
  std::vector<std::string> permitted_dns_domains;
};

struct CertOptions {
  std::string ca_cert_pem, ca_key_pem;
  std::string common_name;  // "server.global.nomad"
  int days = 365;
  std::vector<std::string> dns_names, ip_addresses;  // the subjectAltName
};

struct PemPair {
  std::string cert, key;  // the key as "EC PRIVATE KEY", as Nomad writes it
};

// A self-signed CA certificate and its key.
Result<PemPair> make_ca(const CaOptions& o);
// A certificate for TLS servers and clients alike (serverAuth and clientAuth) signed by the CA.
Result<PemPair> make_cert(const CertOptions& o);
// Whether `cert_pem` chains to `ca_cert_pem` and names `host` (a DNS name or an IP address).
Status verify_cert(const std::string& ca_cert_pem, const std::string& cert_pem, const std::string& host);

struct CertInfo {
  std::string serial;  // decimal, as Nomad prints it
  std::string issuer_cn, subject;  // subject as "CN=...,OU=...,O=..."
  int64_t not_before = 0, not_after = 0;  // seconds since the epoch
  bool is_ca = false;
  std::vector<std::string> dns_names, ip_addresses, permitted_dns_domains;
};
// What `tls ca info` and `tls cert info` print: the first certificate of a PEM text.
Result<CertInfo> read_cert_info(const std::string& pem);

}  // namespace drover::cli
