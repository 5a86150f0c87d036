// gzip through zlib; see gzip.hpp.
#include "drover/common/gzip.hpp"

#include <zlib.h>

namespace drover {
namespace {
constexpr int kGzipWindow = 15 + 16;  // zlib's windowBits for a gzip header and trailer
}

std::string gzip(std::string_view data) {
  z_stream z{};
  deflateInit2(&z, Z_DEFAULT_COMPRESSION, Z_DEFLATED, kGzipWindow, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, data.size()), '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);  // the bound makes one call enough
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

Result<std::string> gunzip(std::string_view in, std::size_t max_out) {
  z_stream z{};
  if (inflateInit2(&z, kGzipWindow) != Z_OK) return make_error("gunzip: zlib would not start");
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  std::string out;
  char buf[1 << 16];
  int rc = Z_OK;
  while (rc == Z_OK) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    rc = inflate(&z, Z_NO_FLUSH);
    if (rc != Z_OK && rc != Z_STREAM_END) break;
    out.append(buf, sizeof buf - z.avail_out);
    if (out.size() > max_out) {
      inflateEnd(&z);
      return make_error("gunzip: more than " + std::to_string(max_out) + " bytes inside", Errc::Invalid);
    }
    if (rc == Z_OK && z.avail_in == 0 && z.avail_out != 0) rc = Z_BUF_ERROR;  // cut short
  }
  inflateEnd(&z);
  if (rc != Z_STREAM_END)
    return make_error(rc == Z_BUF_ERROR ? "gunzip: the data is cut short" : "gunzip: not gzip, or damaged",
                      Errc::Invalid);
  return out;
}

}  // namespace drover
