// A downloaded file's digest through OpenSSL's EVP, checked against the artifact's
// `checksum` option before anything is unpacked.
#pragma once

#include <filesystem>
#include <string>

#include "artifact/source.hpp"
#include "drover/common/result.hpp"

namespace drover::artifact {

// The lower-case hex digest of the file at `path` with `algo` (md5, sha1, sha256, sha512).
Result<std::string> file_digest(const std::filesystem::path& path, const std::string& algo);

// OK when the file's digest is `want`; otherwise an error that gives both sums
// ("checksum mismatch: expected sha256:..., got sha256:...").
Status verify_checksum(const std::filesystem::path& path, const Checksum& want);

}  // namespace drover::artifact
