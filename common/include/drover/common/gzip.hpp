// gzip (RFC 1952) through zlib, for documents the agent writes and reads whole: a server's
// snapshot file (server/snapshot.hpp).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "drover/common/result.hpp"

namespace drover {

std::string gzip(std::string_view data);
// The data of one gzip member; an error when `in` is not gzip, is cut short, fails its CRC, or
// would come to more than `max_out` bytes (a small file must not become gigabytes in memory).
Result<std::string> gunzip(std::string_view in, std::size_t max_out);

}  // namespace drover
