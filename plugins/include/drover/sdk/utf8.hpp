// UTF-8 at the edges, header-only so that the agent and every plugin (in-tree or not) share
// one implementation: text from tasks, runtimes and the kernel is bytes, while task events,
// the state store and the API are JSON, which is UTF-8 (docs/security.md, "Tasks and records").
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace drover::sdk {

// Length of the well-formed character at s[i], or 0 when the bytes there do not make one
// (RFC 3629, section 4: no overlong forms, no surrogates, nothing past U+10FFFF).
inline std::size_t utf8_char_length(std::string_view s, std::size_t i) {
  auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char b0 = byte(i);
  if (b0 < 0x80) return 1;
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;  // the second byte's range
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k)
    if ((byte(i + k) & 0xC0) != 0x80) return 0;
  return n;
}

// The offset of the first byte that is not part of a well-formed character, if any.
inline std::optional<std::size_t> first_invalid_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    auto n = utf8_char_length(s, i);
    if (n == 0) return i;
    i += n;
  }
  return std::nullopt;
}

inline bool utf8_valid(std::string_view s) { return !first_invalid_utf8(s); }

// `s` with every byte that is not part of a well-formed character replaced by U+FFFD.
inline std::string utf8_scrub(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size();) {
    auto n = utf8_char_length(s, i);
    if (n == 0) {
      out += "\xEF\xBF\xBD";
      ++i;
    } else {
      out.append(s.substr(i, n));
      i += n;
    }
  }
  return out;
}

// At most `max_bytes` of `s`, cut before a character rather than inside one.
inline std::string utf8_truncate(std::string_view s, std::size_t max_bytes) {
  if (s.size() <= max_bytes) return std::string(s);
  std::size_t end = max_bytes;
  // Back over continuation bytes (10xxxxxx) to the start of the character that was cut.
  while (end > 0 && (static_cast<unsigned char>(s[end]) & 0xC0) == 0x80) --end;
  return std::string(s.substr(0, end));
}

// Appends code point `cp` encoded as UTF-8; a surrogate or anything past U+10FFFF becomes
// U+FFFD, so the output is always well-formed (escapes in HCL and Go templates both land here).
inline void append_utf8(std::string& out, unsigned cp) {
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

}  // namespace drover::sdk
