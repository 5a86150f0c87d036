// The host's /proc/meminfo; see meminfo.hpp.
#include "api/meminfo.hpp"

#include <fstream>

namespace drover::api {

std::map<std::string, uint64_t> meminfo_bytes() {
  std::map<std::string, uint64_t> m;
  std::ifstream in("/proc/meminfo");
  std::string key;
  uint64_t kb;
  std::string unit;
  while (in >> key >> kb) {
    std::getline(in, unit);
    if (!key.empty() && key.back() == ':') key.pop_back();
    m[key] = kb * 1024;
  }
  return m;
}

}  // namespace drover::api
