// The plain helpers of etcd_client.hpp, shared by the agent and the etcd module.
#include "upstream/etcd_client.hpp"

namespace drover::upstream {

using nlohmann::json;

int64_t json_int(const json& j, const char* key) {
  if (!j.is_object() || !j.contains(key)) return 0;
  const auto& v = j.at(key);
  // etcd's gateway writes int64 values as strings (proto3 JSON); callers may too.
  if (v.is_string()) {
    try {
      return std::stoll(v.get<std::string>());
    } catch (...) {
      return 0;
    }
  }
  return v.is_number_integer() ? v.get<int64_t>() : 0;
}

std::optional<int64_t> EtcdClient::header_revision(const json& reply) {
  int64_t rev = json_int(reply.value("header", json::object()), "revision");
  if (rev <= 0) return std::nullopt;
  return rev;
}

std::string EtcdClient::prefix_end(const std::string& prefix) {
  std::string end = prefix;
  while (!end.empty()) {
    if (static_cast<unsigned char>(end.back()) < 0xff) {
      end.back() = static_cast<char>(end.back() + 1);
      return end;
    }
    end.pop_back();
  }
  return std::string(1, '\0');  // every key
}

}  // namespace drover::upstream
