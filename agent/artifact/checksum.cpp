// File digests for artifact checksums (checksum.hpp).
#include "artifact/checksum.hpp"

#include <fcntl.h>
#include <openssl/evp.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace drover::artifact {

Result<std::string> file_digest(const std::filesystem::path& path, const std::string& algo) {
  const EVP_MD* md = algo == "md5"      ? EVP_md5()
                     : algo == "sha1"   ? EVP_sha1()
                     : algo == "sha256" ? EVP_sha256()
                     : algo == "sha512" ? EVP_sha512()
                                        : nullptr;
  if (!md) return make_error("unknown checksum type \"" + algo + "\"", Errc::Invalid);
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return make_error("reading " + path.string() + ": " + std::strerror(errno));
  std::unique_ptr<int, void (*)(int*)> closer(&fd, [](int* f) { ::close(*f); });
  std::unique_ptr<EVP_MD_CTX, void (*)(EVP_MD_CTX*)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1)
    return make_error("checksum: OpenSSL cannot start a " + algo + " digest");
  char buf[1 << 16];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return make_error("reading " + path.string() + ": " + std::strerror(errno));
    if (n == 0) break;
    EVP_DigestUpdate(ctx.get(), buf, static_cast<std::size_t>(n));
  }
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned len = 0;
  if (EVP_DigestFinal_ex(ctx.get(), out, &len) != 1)
    return make_error("checksum: OpenSSL cannot finish the " + algo + " digest");
  static const char* digits = "0123456789abcdef";
  std::string hex;
  for (unsigned i = 0; i < len; ++i) {
    hex += digits[out[i] >> 4];
    hex += digits[out[i] & 15];
  }
  return hex;
}

Status verify_checksum(const std::filesystem::path& path, const Checksum& want) {
  auto got = file_digest(path, want.algo);
  if (!got) return got.error();
  if (*got != want.hex)
    return make_error(
        "checksum mismatch: expected " + want.text() + ", got " + want.algo + ":" + *got,
        Errc::Invalid);
  return {};
}

}  // namespace drover::artifact
