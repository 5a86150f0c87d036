// Encodings the agent needs at its edges: base64 (etcd's JSON API carries keys and values in
// it), percent-encoding (URLs and forms) and random UUIDs (alloc IDs, ACL tokens).
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace drover {

// Standard base64 (RFC 4648, section 4) with padding, through OpenSSL.
std::string base64_encode(std::string_view in);
// Standard base64 back to bytes; nothing when `in` is not base64.
std::optional<std::string> base64_decode(std::string_view in);

// base64url (RFC 4648, section 5: '-' and '_' for '+' and '/'). `padded`: with its '='
// padding, as Go's URLEncoding (the templates' base64URLEncode); without, as JWTs write it
// (RFC 7515, section 2). Decoding takes the same form only: '+' or '/' in the input, or '='
// in an unpadded one, is nothing.
std::string base64url_encode(std::string_view in, bool padded);
std::optional<std::string> base64url_decode(std::string_view in, bool padded);

// Percent-encoding (RFC 3986, section 2.1) of everything but the unreserved characters
// (letters, digits, '-', '.', '_', '~'): a query value or form field that adds no parameter.
std::string percent_encode(std::string_view in);

// A random (version 4) UUID from the kernel's CSPRNG, lower-case hex: 122 random bits, enough
// for an ID that never collides and for a secret.
std::string random_uuid();

}  // namespace drover
