// The keys a JWT auth method checks logins with, kept between logins: PEM keys read once per
// config, a JWKSURL's (or an OIDCDiscoveryURL's jwks_uri's) document fetched over HTTP(S) at
// most every 5 minutes, and again at once when a token names a key id the copy lacks (the
// provider rotated its keys), though not more than once per 10 s, so that tokens naming
// made-up key ids cannot make drover fetch on every login.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "auth/auth_method.hpp"
#include "auth/jwt_keys.hpp"

namespace drover::auth {

class KeyCache {
 public:
  // The keys to check a token of method `m` with, the one named `kid` first when there is
  // one. An error says why none could be had (the fetch failed, the document is no JWKS).
  Result<std::vector<PublicKey>> keys(const AuthMethod& m, const std::string& kid);

 private:
  struct Entry {
    std::string source;  // what the keys came from: the method's key config, as text
    std::vector<PublicKey> keys;
    std::chrono::steady_clock::time_point fetched{};
  };
  Result<std::vector<PublicKey>> load(const AuthMethod& m);

  std::mutex mu_;
  std::map<std::string, Entry> by_method_;
};

}  // namespace drover::auth
