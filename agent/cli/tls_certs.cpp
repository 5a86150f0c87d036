// OpenSSL's X509 API (libssl3, Debian's) in the shape of Nomad's helper/tlsutil/generate.go:
// P-256 keys, 128-bit random serials, SHA-256 signatures, Nomad's key usages and names.
#include "cli/tls_certs.hpp"

#include <arpa/inet.h>
#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cctype>
#include <ctime>

#include "drover/common/openssl_handles.hpp"

namespace drover::cli {
namespace {

using Bio = OsslPtr<BIO, BIO_free>;
using Key = OsslPtr<EVP_PKEY, EVP_PKEY_free>;
using Cert = OsslPtr<X509, X509_free>;
using Bignum = OsslPtr<BIGNUM, BN_free>;

// `what`, with OpenSSL's reason when it left one.
std::string ssl_error(const std::string& what) {
  const unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (!e) return what;
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return what + ": " + buf;
}

std::string bio_text(BIO* b) {
  char* data = nullptr;
  const long n = BIO_get_mem_data(b, &data);
  return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}

std::string key_pem(EVP_PKEY* k) {
  Bio b(BIO_new(BIO_s_mem()));
  // "EC PRIVATE KEY" (SEC 1), as Nomad's x509.MarshalECPrivateKey writes it.
  if (!b || !PEM_write_bio_PrivateKey_traditional(b.get(), k, nullptr, nullptr, 0, nullptr, nullptr))
    return {};
  return bio_text(b.get());
}

std::string cert_pem(X509* x) {
  Bio b(BIO_new(BIO_s_mem()));
  if (!b || !PEM_write_bio_X509(b.get(), x)) return {};
  return bio_text(b.get());
}

Result<Cert> read_cert(const std::string& pem, const std::string& what) {
  Bio b(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Cert x(b ? PEM_read_bio_X509(b.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!x) return make_error(ssl_error(what + ": no PEM certificate"));
  return x;
}

Result<Key> read_key(const std::string& pem, const std::string& what) {
  Bio b(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Key k(b ? PEM_read_bio_PrivateKey(b.get(), nullptr, nullptr, nullptr) : nullptr);
  if (!k) return make_error(ssl_error(what + ": no PEM private key (or one with a passphrase)"));
  return k;
}

// A random 128-bit serial, as Nomad's GenerateSerialNumber.
bool set_random_serial(X509* x) {
  Bignum bn(BN_new());
  return bn && BN_rand(bn.get(), 128, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) &&
         BN_to_ASN1_INTEGER(bn.get(), X509_get_serialNumber(x)) != nullptr;
}

bool add_ext(X509* x, X509* issuer, int nid, const std::string& value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, x, nullptr, nullptr, 0);
  X509_EXTENSION* ext = X509V3_EXT_conf_nid(nullptr, &ctx, nid, value.c_str());
  if (!ext) return false;
  const bool ok = X509_add_ext(x, ext, -1) == 1;
  X509_EXTENSION_free(ext);
  return ok;
}

bool add_name_entry(X509_NAME* name, const char* field, const std::string& value) {
  if (value.empty()) return true;
  return X509_NAME_add_entry_by_txt(name, field, MBSTRING_UTF8,
                                    reinterpret_cast<const unsigned char*>(value.data()),
                                    static_cast<int>(value.size()), -1, 0) == 1;
}

// A DNS name the subjectAltName and nameConstraints texts can carry as they are.
bool plain_dns_name(const std::string& s) {
  if (s.empty() || s.size() > 253) return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '*' || c == '_'))
      return false;
  return true;
}

bool ip_address(const std::string& s) {
  unsigned char buf[16];
  return inet_pton(AF_INET, s.c_str(), buf) == 1 || inet_pton(AF_INET6, s.c_str(), buf) == 1;
}

// A new certificate with a fresh serial, the key's public half and the validity from now.
Result<Cert> new_cert(EVP_PKEY* key, int days) {
  if (days <= 0) return make_error("days: must be 1 or more, not " + std::to_string(days));
  Cert x(X509_new());
  if (!x || !X509_set_version(x.get(), X509_VERSION_3) || !set_random_serial(x.get()) ||
      !X509_set_pubkey(x.get(), key) || !X509_gmtime_adj(X509_getm_notBefore(x.get()), 0) ||
      !X509_time_adj_ex(X509_getm_notAfter(x.get()), days, 0, nullptr))
    return make_error(ssl_error("making the certificate"));
  return x;
}

std::string serial_decimal(const X509* x) {
  Bignum bn(ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), nullptr));
  if (!bn) return {};
  char* d = BN_bn2dec(bn.get());
  std::string out = d ? d : "";
  OPENSSL_free(d);
  return out;
}

int64_t epoch_seconds(const ASN1_TIME* t) {
  std::tm tm{};
  if (!t || !ASN1_TIME_to_tm(t, &tm)) return 0;
  return static_cast<int64_t>(timegm(&tm));
}

}  // namespace

Result<PemPair> make_ca(const CaOptions& o) {
  CaOptions opts = o;
  const bool custom = !o.common_name.empty() || !o.country.empty() || !o.postal_code.empty() ||
                      !o.province.empty() || !o.locality.empty() || !o.street_address.empty() ||
                      !o.organization.empty() || !o.organizational_unit.empty();
  if (custom) {
    // Nomad's rule: a customised CA names itself fully.
    if (o.common_name.empty()) return make_error("common-name: required when customizing the CA");
    if (o.country.empty()) return make_error("country: required when customizing the CA");
    if (o.organization.empty()) return make_error("organization: required when customizing the CA");
    if (o.organizational_unit.empty())
      return make_error("organizational-unit: required when customizing the CA");
  }
  for (const auto& d : o.permitted_dns_domains)
    if (!plain_dns_name(d)) return make_error("domain: \"" + d + "\" is not a DNS name");
  Key key(EVP_EC_gen("P-256"));
  if (!key) return make_error(ssl_error("making a P-256 key"));
  auto x = new_cert(key.get(), o.days);
  if (!x) return x.error();
  X509* c = x.value().get();
  const std::string serial = serial_decimal(c);
  if (!custom) {
    opts.common_name = "Nomad Agent CA";
    opts.country = "US";
    opts.postal_code = "94105";
    opts.province = "CA";
    opts.locality = "San Francisco";
    opts.street_address = "101 Second Street";
    opts.organization = "HashiCorp Inc.";
    opts.organizational_unit = "Nomad";
  }
  // The serial in the name, as Nomad's: two CAs made with the same options differ by name.
  opts.common_name += " " + serial;
  X509_NAME* name = X509_get_subject_name(c);
  if (!add_name_entry(name, "C", opts.country) || !add_name_entry(name, "postalCode", opts.postal_code) ||
      !add_name_entry(name, "ST", opts.province) || !add_name_entry(name, "L", opts.locality) ||
      !add_name_entry(name, "street", opts.street_address) || !add_name_entry(name, "O", opts.organization) ||
      !add_name_entry(name, "OU", opts.organizational_unit) || !add_name_entry(name, "CN", opts.common_name) ||
      !X509_set_issuer_name(c, name))
    return make_error(ssl_error("naming the CA"));
  std::string permitted;
  for (const auto& d : o.permitted_dns_domains) permitted += (permitted.empty() ? "" : ",") + ("permitted;DNS:" + d);
  if (!add_ext(c, c, NID_basic_constraints, "critical,CA:TRUE") ||
      !add_ext(c, c, NID_key_usage, "critical,digitalSignature,keyCertSign,cRLSign") ||
      !add_ext(c, c, NID_subject_key_identifier, "hash") ||
      !add_ext(c, c, NID_authority_key_identifier, "keyid:always") ||
      (!permitted.empty() && !add_ext(c, c, NID_name_constraints, "critical," + permitted)))
    return make_error(ssl_error("the CA's extensions"));
  if (X509_sign(c, key.get(), EVP_sha256()) <= 0) return make_error(ssl_error("signing the CA"));
  PemPair out{cert_pem(c), key_pem(key.get())};
  if (out.cert.empty() || out.key.empty()) return make_error(ssl_error("writing the CA as PEM"));
  return out;
}

Result<PemPair> make_cert(const CertOptions& o) {
  auto ca = read_cert(o.ca_cert_pem, "the CA certificate");
  if (!ca) return ca.error();
  auto ca_key = read_key(o.ca_key_pem, "the CA key");
  if (!ca_key) return ca_key.error();
  if (X509_check_ca(ca.value().get()) < 1) return make_error("the CA certificate is not a CA's (no CA:TRUE)");
  if (X509_check_private_key(ca.value().get(), ca_key.value().get()) != 1) {
    ERR_clear_error();
    return make_error("the CA key is not the CA certificate's key");
  }
  if (o.common_name.empty()) return make_error("common name: required");
  std::string san;
  for (const auto& d : o.dns_names) {
    if (!plain_dns_name(d)) return make_error("additional-dnsname: \"" + d + "\" is not a DNS name");
    san += (san.empty() ? "DNS:" : ",DNS:") + d;
  }
  for (const auto& ip : o.ip_addresses) {
    if (!ip_address(ip)) return make_error("additional-ipaddress: \"" + ip + "\" is not an IP address");
    san += (san.empty() ? "IP:" : ",IP:") + ip;
  }
  Key key(EVP_EC_gen("P-256"));
  if (!key) return make_error(ssl_error("making a P-256 key"));
  auto x = new_cert(key.get(), o.days);
  if (!x) return x.error();
  X509* c = x.value().get();
  X509* issuer = ca.value().get();
  if (!add_name_entry(X509_get_subject_name(c), "CN", o.common_name) ||
      !X509_set_issuer_name(c, X509_get_subject_name(issuer)))
    return make_error(ssl_error("naming the certificate"));
  if (!add_ext(c, issuer, NID_basic_constraints, "critical,CA:FALSE") ||
      !add_ext(c, issuer, NID_key_usage, "critical,digitalSignature,keyEncipherment") ||
      !add_ext(c, issuer, NID_ext_key_usage, "serverAuth,clientAuth") ||
      !add_ext(c, issuer, NID_subject_key_identifier, "hash") ||
      !add_ext(c, issuer, NID_authority_key_identifier, "keyid:always") ||
      (!san.empty() && !add_ext(c, issuer, NID_subject_alt_name, san)))
    return make_error(ssl_error("the certificate's extensions"));
  if (X509_sign(c, ca_key.value().get(), EVP_sha256()) <= 0)
    return make_error(ssl_error("signing the certificate"));
  PemPair out{cert_pem(c), key_pem(key.get())};
  if (out.cert.empty() || out.key.empty()) return make_error(ssl_error("writing the certificate as PEM"));
  return out;
}

Status verify_cert(const std::string& ca_cert_pem, const std::string& cert_pem_text,
                   const std::string& host) {
  auto ca = read_cert(ca_cert_pem, "the CA certificate");
  if (!ca) return ca.error();
  auto cert = read_cert(cert_pem_text, "the certificate");
  if (!cert) return cert.error();
  OsslPtr<X509_STORE, X509_STORE_free> store(X509_STORE_new());
  OsslPtr<X509_STORE_CTX, X509_STORE_CTX_free> ctx(X509_STORE_CTX_new());
  if (!store || !ctx || X509_STORE_add_cert(store.get(), ca.value().get()) != 1 ||
      X509_STORE_CTX_init(ctx.get(), store.get(), cert.value().get(), nullptr) != 1)
    return make_error(ssl_error("verifying the certificate"));
  X509_VERIFY_PARAM* param = X509_STORE_CTX_get0_param(ctx.get());
  const bool set = ip_address(host) ? X509_VERIFY_PARAM_set1_ip_asc(param, host.c_str()) == 1
                                    : X509_VERIFY_PARAM_set1_host(param, host.c_str(), host.size()) == 1;
  if (!set) return make_error(ssl_error("verifying the certificate for \"" + host + "\""));
  if (X509_verify_cert(ctx.get()) != 1) {
    ERR_clear_error();
    return make_error(std::string("the certificate does not verify for \"") + host + "\": " +
                      X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx.get())));
  }
  return {};
}

Result<CertInfo> read_cert_info(const std::string& pem) {
  auto cert = read_cert(pem, "the file");
  if (!cert) return cert.error();
  X509* x = cert.value().get();
  CertInfo info;
  info.serial = serial_decimal(x);
  char cn[512] = {0};
  if (X509_NAME_get_text_by_NID(X509_get_issuer_name(x), NID_commonName, cn, sizeof cn) > 0) info.issuer_cn = cn;
  Bio b(BIO_new(BIO_s_mem()));
  if (b && X509_NAME_print_ex(b.get(), X509_get_subject_name(x), 0, XN_FLAG_RFC2253) >= 0)
    info.subject = bio_text(b.get());
  info.not_before = epoch_seconds(X509_get0_notBefore(x));
  info.not_after = epoch_seconds(X509_get0_notAfter(x));
  info.is_ca = X509_check_ca(x) >= 1;
  auto* names = static_cast<GENERAL_NAMES*>(X509_get_ext_d2i(x, NID_subject_alt_name, nullptr, nullptr));
  for (int i = 0; names && i < sk_GENERAL_NAME_num(names); ++i) {
    const GENERAL_NAME* n = sk_GENERAL_NAME_value(names, i);
    if (n->type == GEN_DNS) {
      info.dns_names.emplace_back(reinterpret_cast<const char*>(ASN1_STRING_get0_data(n->d.dNSName)),
                                  static_cast<std::size_t>(ASN1_STRING_length(n->d.dNSName)));
    } else if (n->type == GEN_IPADD) {
      const int len = ASN1_STRING_length(n->d.iPAddress);
      char text[INET6_ADDRSTRLEN] = {0};
      if ((len == 4 || len == 16) &&
          inet_ntop(len == 4 ? AF_INET : AF_INET6, ASN1_STRING_get0_data(n->d.iPAddress), text, sizeof text))
        info.ip_addresses.emplace_back(text);
    }
  }
  GENERAL_NAMES_free(names);
  auto* nc = static_cast<NAME_CONSTRAINTS*>(X509_get_ext_d2i(x, NID_name_constraints, nullptr, nullptr));
  for (int i = 0; nc && nc->permittedSubtrees && i < sk_GENERAL_SUBTREE_num(nc->permittedSubtrees); ++i) {
    const GENERAL_SUBTREE* t = sk_GENERAL_SUBTREE_value(nc->permittedSubtrees, i);
    if (t->base && t->base->type == GEN_DNS)
      info.permitted_dns_domains.emplace_back(
          reinterpret_cast<const char*>(ASN1_STRING_get0_data(t->base->d.dNSName)),
          static_cast<std::size_t>(ASN1_STRING_length(t->base->d.dNSName)));
  }
  NAME_CONSTRAINTS_free(nc);
  return info;
}

}  // namespace drover::cli
