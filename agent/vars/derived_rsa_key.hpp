// An RSA-2048 key derived from a secret instead of drawn at random, so that every node holding
// the same keyring derives the same signing key: a workload identity signed on one node checks
// against the JWKS of any other, and nothing but the root keys needs storing or replicating
// (docs/variables.md, "Signing keys").
//
// The secret enters only through `block(label, counter)`, a pseudo-random function (the
// keyring's HMAC under a purpose of its own). Each prime starts at 1024 bits of its output,
// top two bits and the low bit set, and is the first probable prime found counting up by two
// (OpenSSL's BN_check_prime: trial division, then Miller-Rabin to 2^-128); e = 65537.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "drover/common/result.hpp"
#include "vars/jwt.hpp"

namespace drover::vars {

// `block` returns 32 bytes or more for each (label, counter); the same inputs must give the
// same bytes.
using SeedBlock = std::function<std::string(std::string_view label, uint32_t counter)>;

Result<Pkey> derive_rsa_key(const SeedBlock& block);

}  // namespace drover::vars
