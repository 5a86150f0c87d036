// Root keys, AES-256-GCM sealing and key-derived MACs (vars/keyring.hpp).
#include "vars/keyring.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/sha.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "drover/common/encoding.hpp"

namespace drover::vars {
namespace {

constexpr std::size_t kKeyBytes = 32, kNonceBytes = 12, kTagBytes = 16;

std::string key_id_of(const std::string& key) {
  unsigned char d[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(key.data()), key.size(), d);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += hex[d[i] >> 4];
    out += hex[d[i] & 15];
  }
  return out;
}

struct CipherCtx {
  EVP_CIPHER_CTX* p = EVP_CIPHER_CTX_new();
  ~CipherCtx() { EVP_CIPHER_CTX_free(p); }
};

// Writes `text` to `file` through a temp file in the same dir (mode 0600, fsynced) and a
// rename, so a crash leaves the old keyring or the new one, never half of either.
Status write_atomically(const std::filesystem::path& file, const std::string& text) {
  auto tmp = file;
  tmp += ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd < 0) return make_error("keyring " + tmp.string() + ": " + std::strerror(errno));
  std::size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int e = errno;
      ::close(fd);
      return make_error("keyring " + tmp.string() + ": " + std::strerror(e));
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fchmod(fd, 0600) != 0 || ::fsync(fd) != 0) {
    int e = errno;
    ::close(fd);
    return make_error("keyring " + tmp.string() + ": " + std::strerror(e));
  }
  ::close(fd);
  if (::rename(tmp.c_str(), file.c_str()) != 0)
    return make_error("keyring " + file.string() + ": " + std::strerror(errno));
  int dfd = ::open(file.parent_path().c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return {};
}

std::string new_key() {
  std::string k(kKeyBytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(k.data()), static_cast<int>(k.size())) != 1)
    return {};
  return k;
}

}  // namespace

Result<std::vector<Keyring::Key>> Keyring::read_file(const std::filesystem::path& file) {
  std::ifstream in(file);
  if (!in) return make_error("keyring " + file.string() + ": cannot read it");
  std::vector<Key> keys;
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    while (!line.empty() && (line.back() == '\r' || line.back() == ' ')) line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    auto bytes = base64_decode(line);
    if (!bytes || bytes->size() != kKeyBytes)
      return make_error("keyring " + file.string() + ":" + std::to_string(n) +
                        ": not a base64 32-byte key (make one with: openssl rand -base64 32)");
    keys.push_back({key_id_of(*bytes), *bytes});
  }
  if (keys.empty()) return make_error("keyring " + file.string() + ": holds no key");
  return keys;
}

Result<std::unique_ptr<Keyring>> Keyring::open_local(const std::filesystem::path& file) {
  std::unique_ptr<Keyring> k(new Keyring(file, false));
  std::error_code ec;
  if (!std::filesystem::exists(file, ec)) {
    auto key = new_key();
    if (key.empty()) return make_error("keyring: the random generator failed");
    if (auto st = write_atomically(file, base64_encode(key) + "\n"); !st) return st.error();
    k->keys_.push_back({key_id_of(key), key});
    return k;
  }
  auto keys = read_file(file);
  if (!keys) return keys.error();
  k->keys_ = std::move(*keys);
  // The file holds every key that ever sealed a value: owner only, whatever made it.
  ::chmod(file.c_str(), 0600);
  return k;
}

Result<std::unique_ptr<Keyring>> Keyring::open_shared(const std::filesystem::path& file) {
  struct stat st {};
  if (::stat(file.c_str(), &st) != 0)
    return make_error("keyring_file " + file.string() + ": " + std::strerror(errno));
  if (st.st_mode & 077)
    return make_error(
        "keyring_file " + file.string() + ": readable by others than its owner (mode " +
        std::to_string((st.st_mode >> 6) & 7) + std::to_string((st.st_mode >> 3) & 7) +
        std::to_string(st.st_mode & 7) + "); chmod 600 it");
  std::unique_ptr<Keyring> k(new Keyring(file, true));
  auto keys = read_file(file);
  if (!keys) return keys.error();
  k->keys_ = std::move(*keys);
  return k;
}

const Keyring::Key* Keyring::find_locked(std::string_view id) const {
  for (const auto& k : keys_)
    if (k.id == id) return &k;
  return nullptr;
}

Result<Sealed> Keyring::seal(std::string_view plaintext, std::string_view aad) const {
  Key key;
  {
    std::lock_guard lock(mu_);
    key = keys_.back();
  }
  std::string out(kNonceBytes + plaintext.size() + kTagBytes, '\0');
  auto* o = reinterpret_cast<unsigned char*>(out.data());
  if (RAND_bytes(o, kNonceBytes) != 1) return make_error("vars: the random generator failed");
  CipherCtx c;
  int len = 0;
  auto* k = reinterpret_cast<const unsigned char*>(key.bytes.data());
  if (!c.p || EVP_EncryptInit_ex(c.p, EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(c.p, EVP_CTRL_GCM_SET_IVLEN, kNonceBytes, nullptr) != 1 ||
      EVP_EncryptInit_ex(c.p, nullptr, nullptr, k, o) != 1 ||
      EVP_EncryptUpdate(c.p, nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) != 1 ||
      EVP_EncryptUpdate(c.p, o + kNonceBytes, &len,
                        reinterpret_cast<const unsigned char*>(plaintext.data()),
                        static_cast<int>(plaintext.size())) != 1 ||
      EVP_EncryptFinal_ex(c.p, o + kNonceBytes + len, &len) != 1 ||
      EVP_CIPHER_CTX_ctrl(c.p, EVP_CTRL_GCM_GET_TAG, kTagBytes,
                          o + kNonceBytes + plaintext.size()) != 1)
    return make_error("vars: AES-256-GCM encryption failed");
  return Sealed{key.id, std::move(out)};
}

Result<std::string> Keyring::open(const Sealed& sealed, std::string_view aad) const {
  Key key;
  {
    std::lock_guard lock(mu_);
    const Key* k = find_locked(sealed.key_id);
    if (!k)
      return make_error(
          "vars: sealed with key " + sealed.key_id + ", which this agent's keyring does not hold",
          Errc::Invalid);
    key = *k;
  }
  if (sealed.data.size() < kNonceBytes + kTagBytes)
    return make_error("vars: the stored value is too short to be sealed data");
  const auto* d = reinterpret_cast<const unsigned char*>(sealed.data.data());
  const std::size_t n = sealed.data.size() - kNonceBytes - kTagBytes;
  std::string out(n, '\0');
  CipherCtx c;
  int len = 0;
  std::string tag = sealed.data.substr(kNonceBytes + n);
  if (!c.p || EVP_DecryptInit_ex(c.p, EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
      EVP_CIPHER_CTX_ctrl(c.p, EVP_CTRL_GCM_SET_IVLEN, kNonceBytes, nullptr) != 1 ||
      EVP_DecryptInit_ex(c.p, nullptr, nullptr,
                         reinterpret_cast<const unsigned char*>(key.bytes.data()), d) != 1 ||
      EVP_DecryptUpdate(c.p, nullptr, &len, reinterpret_cast<const unsigned char*>(aad.data()),
                        static_cast<int>(aad.size())) != 1 ||
      EVP_DecryptUpdate(c.p, reinterpret_cast<unsigned char*>(out.data()), &len, d + kNonceBytes,
                        static_cast<int>(n)) != 1 ||
      EVP_CIPHER_CTX_ctrl(c.p, EVP_CTRL_GCM_SET_TAG, kTagBytes, tag.data()) != 1 ||
      EVP_DecryptFinal_ex(c.p, reinterpret_cast<unsigned char*>(out.data()) + len, &len) != 1) {
    OPENSSL_cleanse(out.data(), out.size());
    return make_error(
        "vars: the stored value does not authenticate (tampered with, or sealed "
        "for another path); refusing it");
  }
  return out;
}

Result<KeyInfo> Keyring::rotate() {
  if (shared_)
    return make_error("the keyring comes from keyring_file " + file_.string() +
                          " (cluster mode): append a new key (openssl rand -base64 32) to that "
                          "file on every node and restart the agents",
                      Errc::Unsupported);
  auto key = new_key();
  if (key.empty()) return make_error("keyring: the random generator failed");
  std::lock_guard lock(mu_);
  std::string text;
  for (const auto& k : keys_) text += base64_encode(k.bytes) + "\n";
  text += base64_encode(key) + "\n";
  if (auto st = write_atomically(file_, text); !st) return st.error();
  keys_.push_back({key_id_of(key), key});
  return KeyInfo{keys_.back().id, true};
}

std::vector<KeyInfo> Keyring::keys() const {
  std::lock_guard lock(mu_);
  std::vector<KeyInfo> out;
  for (std::size_t i = 0; i < keys_.size(); ++i)
    out.push_back({keys_[i].id, i + 1 == keys_.size()});
  return out;
}

std::string Keyring::active_id() const {
  std::lock_guard lock(mu_);
  return keys_.back().id;
}

std::string Keyring::mac(std::string_view key_id, std::string_view purpose,
                         std::string_view data) const {
  std::string root;
  {
    std::lock_guard lock(mu_);
    const Key* k = find_locked(key_id);
    if (!k) return {};
    root = k->bytes;
  }
  // A key of its own per purpose: HMAC(root, purpose), so a MAC never equals anything the
  // root key computes elsewhere.
  unsigned char derived[EVP_MAX_MD_SIZE], out[EVP_MAX_MD_SIZE];
  unsigned int dlen = 0, olen = 0;
  HMAC(EVP_sha256(), root.data(), static_cast<int>(root.size()),
       reinterpret_cast<const unsigned char*>(purpose.data()), purpose.size(), derived, &dlen);
  HMAC(EVP_sha256(), derived, static_cast<int>(dlen),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &olen);
  OPENSSL_cleanse(derived, sizeof derived);
  OPENSSL_cleanse(root.data(), root.size());
  return std::string(reinterpret_cast<char*>(out), olen);
}

}  // namespace drover::vars
