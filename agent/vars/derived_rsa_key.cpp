// The keyring-derived RSA signing key (vars/derived_rsa_key.hpp).
#include "vars/derived_rsa_key.hpp"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/param_build.h>

#include <memory>

#include "drover/common/openssl_handles.hpp"

namespace drover::vars {
namespace {

constexpr int kPrimeBits = 1024;
constexpr unsigned long kE = 65537;

using Bn = OsslPtr<BIGNUM, BN_clear_free>;  // each held a secret

// The first probable prime counting up from the PRF's output for `label`, with p - 1 prime to
// e; a start whose run leaves 1024 bits (or meets `other`) draws the next start.
Bn prime_from(const SeedBlock& block, std::string_view label, const BIGNUM* other, BN_CTX* ctx) {
  for (uint32_t attempt = 0; attempt < 16; ++attempt) {
    std::string bytes;
    for (uint32_t i = 0; bytes.size() < kPrimeBits / 8; ++i) bytes += block(label, attempt * 16 + i);
    Bn p(BN_bin2bn(reinterpret_cast<const unsigned char*>(bytes.data()), kPrimeBits / 8, nullptr));
    OPENSSL_cleanse(bytes.data(), bytes.size());
    if (!p) return nullptr;
    // Top two bits: p * q has all 2048 bits. Low bit: odd.
    BN_set_bit(p.get(), kPrimeBits - 1);
    BN_set_bit(p.get(), kPrimeBits - 2);
    BN_set_bit(p.get(), 0);
    for (int step = 0; step < (1 << 16) && BN_num_bits(p.get()) == kPrimeBits;
         ++step, BN_add_word(p.get(), 2)) {
      if (BN_mod_word(p.get(), kE) == 1) continue;  // e divides p - 1: d would not exist
      if (BN_check_prime(p.get(), ctx, nullptr) != 1) continue;
      if (other && BN_cmp(p.get(), other) == 0) break;
      return p;
    }
  }
  return nullptr;
}

}  // namespace

Result<Pkey> derive_rsa_key(const SeedBlock& block) {
  OsslPtr<BN_CTX, BN_CTX_free> ctx(BN_CTX_secure_new());
  if (!ctx) return make_error("derive signing key: out of memory");
  Bn p = prime_from(block, "rsa-p", nullptr, ctx.get());
  Bn q = p ? prime_from(block, "rsa-q", p.get(), ctx.get()) : nullptr;
  if (!p || !q) return make_error("derive signing key: no prime found");
  Bn e(BN_new()), n(BN_new()), p1(BN_new()), q1(BN_new()), phi(BN_new()), g(BN_new()),
      lambda(BN_new()), d(BN_secure_new()), dmp1(BN_secure_new()), dmq1(BN_secure_new()),
      iqmp(BN_secure_new()), diff(BN_new());
  bool ok = e && n && p1 && q1 && phi && g && lambda && d && dmp1 && dmq1 && iqmp && diff &&
            BN_set_word(e.get(), kE) && BN_mul(n.get(), p.get(), q.get(), ctx.get()) &&
            BN_sub(p1.get(), p.get(), BN_value_one()) && BN_sub(q1.get(), q.get(), BN_value_one()) &&
            BN_mul(phi.get(), p1.get(), q1.get(), ctx.get()) &&
            BN_gcd(g.get(), p1.get(), q1.get(), ctx.get()) &&
            BN_div(lambda.get(), nullptr, phi.get(), g.get(), ctx.get()) &&
            BN_mod_inverse(d.get(), e.get(), lambda.get(), ctx.get()) &&
            BN_mod(dmp1.get(), d.get(), p1.get(), ctx.get()) &&
            BN_mod(dmq1.get(), d.get(), q1.get(), ctx.get()) &&
            BN_mod_inverse(iqmp.get(), q.get(), p.get(), ctx.get()) &&
            BN_sub(diff.get(), p.get(), q.get());
  if (!ok) return make_error("derive signing key: arithmetic failed");
  // FIPS 186-4 B.3.3's |p - q| > 2^(nlen/2 - 100): true but for odds of 2^-98; checked anyway.
  if (BN_num_bits(diff.get()) <= kPrimeBits - 100)
    return make_error("derive signing key: primes too close");
  OsslPtr<OSSL_PARAM_BLD, OSSL_PARAM_BLD_free> bld(OSSL_PARAM_BLD_new());
  if (!bld || !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_N, n.get()) ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_E, e.get()) ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_D, d.get()) ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_FACTOR1, p.get()) ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_FACTOR2, q.get()) ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_EXPONENT1, dmp1.get()) ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_EXPONENT2, dmq1.get()) ||
      !OSSL_PARAM_BLD_push_BN(bld.get(), OSSL_PKEY_PARAM_RSA_COEFFICIENT1, iqmp.get()))
    return make_error("derive signing key: out of memory");
  OsslPtr<OSSL_PARAM, OSSL_PARAM_free> params(OSSL_PARAM_BLD_to_param(bld.get()));
  OsslPtr<EVP_PKEY_CTX, EVP_PKEY_CTX_free> pctx(EVP_PKEY_CTX_new_from_name(nullptr, "RSA", nullptr));
  EVP_PKEY* key = nullptr;
  if (!params || !pctx || EVP_PKEY_fromdata_init(pctx.get()) != 1 ||
      EVP_PKEY_fromdata(pctx.get(), &key, EVP_PKEY_KEYPAIR, params.get()) != 1)
    return make_error("derive signing key: OpenSSL refused the key");
  return Pkey(key);
}

}  // namespace drover::vars
