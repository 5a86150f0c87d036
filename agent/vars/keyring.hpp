// The root keys that encrypt Nomad Variables at rest (AES-256-GCM through OpenSSL's EVP) and
// sign workload identities (HMAC-SHA256 with a key derived from the root key).
//
// A keyring file holds one base64 32-byte key per line, the last line being the active key;
// `#` lines are comments. A key's id is derived from the key itself (a UUID from its SHA-256),
// so every node that reads the same file names the same keys.
//   - local (standalone agent): <data_dir>/keyring, created mode 0600 with one key on first
//     use; `rotate` appends a new active key. Old keys stay, so values sealed with them still
//     open: a value names the key id that sealed it (docs/variables.md, "Keys").
//   - shared (cluster mode): the agent config's `keyring_file`, the same file on every node;
//     read only, rotated by the operator (append a key on every node, restart).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "drover/common/result.hpp"

namespace drover::vars {

struct KeyInfo {
  std::string id;
  bool active = false;
};

// What a value is stored as: the id of the key that sealed it and nonce || ciphertext || tag.
struct Sealed {
  std::string key_id;
  std::string data;  // raw bytes
};

class Keyring {
 public:
  // Reads `file`, creating it (mode 0600, one new key) when it does not exist.
  static Result<std::unique_ptr<Keyring>> open_local(const std::filesystem::path& file);
  // Reads `file`, which must exist, hold at least one key and be readable by its owner only.
  static Result<std::unique_ptr<Keyring>> open_shared(const std::filesystem::path& file);

  // AES-256-GCM with the active key and a random 96-bit nonce; `aad` (the variable's
  // namespace and path) is authenticated, so a value moved to another path does not open.
  Result<Sealed> seal(std::string_view plaintext, std::string_view aad) const;
  // Invalid when the key is unknown; Internal when the tag does not verify (tampered data, a
  // wrong key or a wrong aad): nothing of the plaintext is returned then.
  Result<std::string> open(const Sealed& sealed, std::string_view aad) const;

  // A new active key, appended to the file (written whole to a temp file, then renamed).
  // Unsupported for a shared keyring.
  Result<KeyInfo> rotate();
  std::vector<KeyInfo> keys() const;
  std::string active_id() const;
  bool shared() const { return shared_; }

  // HMAC-SHA256 over `data` with a key derived from root key `key_id` for `purpose`; empty
  // when the key is unknown.
  std::string mac(std::string_view key_id, std::string_view purpose, std::string_view data) const;

 private:
  struct Key {
    std::string id;
    std::string bytes;  // 32
  };
  Keyring(std::filesystem::path file, bool shared) : file_(std::move(file)), shared_(shared) {}
  static Result<std::vector<Key>> read_file(const std::filesystem::path& file);
  const Key* find_locked(std::string_view id) const;

  std::filesystem::path file_;
  bool shared_;
  mutable std::mutex mu_;
  std::vector<Key> keys_;  // the last is active
};

}  // namespace drover::vars
