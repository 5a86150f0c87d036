// UTF-8 at the edges: text from tasks, runtimes and the kernel is bytes, while the state store,
// the API and task events are JSON, which is UTF-8 (docs/security.md, "Tasks and records").
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace drover {

// Whether `s` is well-formed UTF-8 (no overlong forms, surrogates or code points past U+10FFFF).
bool utf8_valid(std::string_view s);

// `s` with every byte that is not part of a well-formed character replaced by U+FFFD.
std::string utf8_scrub(std::string_view s);

// At most `max_bytes` of `s`, cut before a character rather than inside one.
std::string utf8_truncate(std::string_view s, std::size_t max_bytes);

}  // namespace drover
