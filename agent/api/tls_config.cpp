// Reading the `tls:` block; see tls_config.hpp.
#include "api/tls_config.hpp"

#include <string_view>
#include <vector>

#include "jobspec/did_you_mean.hpp"

namespace drover::api {

void read_tls_config(const nlohmann::json& block, TlsSettings& out, std::string& errors) {
  if (!block.is_object()) {
    errors += "\n  tls: must be a map";
    return;
  }
  static const std::vector<std::string_view> known = {"ca_file", "cert_file", "key_file",
                                                      "verify_https_client"};
  for (const auto& [k, v] : block.items()) {
    std::string* path = k == "cert_file" ? &out.cert_file
                        : k == "key_file" ? &out.key_file
                        : k == "ca_file"  ? &out.ca_file
                                          : nullptr;
    if (path) {
      if (!v.is_string()) errors += "\n  tls." + k + ": must be a path";
      else *path = v.get<std::string>();
    } else if (k == "verify_https_client") {
      if (!v.is_boolean()) errors += "\n  tls.verify_https_client: must be true or false";
      else out.verify_https_client = v.get<bool>();
    } else {
      errors += "\n  tls." + k + ": unknown key" + jobspec::detail::did_you_mean(k, known);
    }
  }
}

Status check_tls_config(const TlsSettings& tls) {
  if (tls.cert_file.empty() != tls.key_file.empty())
    return make_error("tls: cert_file and key_file go together (set both, or neither)");
  if (tls.verify_https_client && (tls.cert_file.empty() || tls.ca_file.empty()))
    return make_error(
        "tls.verify_https_client: needs cert_file, key_file and ca_file (the CA that signs "
        "client certificates)");
  return {};
}

}  // namespace drover::api
