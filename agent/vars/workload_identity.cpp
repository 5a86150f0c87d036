// Workload identity tokens: signing, checking and the implicit policy
// (vars/workload_identity.hpp).
#include "vars/workload_identity.hpp"

#include <openssl/crypto.h>

#include <nlohmann/json.hpp>
#include <vector>

#include "drover/common/encoding.hpp"
#include "drover/common/split.hpp"
#include "state/alloc.hpp"

namespace drover::vars {
namespace {

using nlohmann::json;

constexpr std::string_view kPurpose = "drover workload identity v1";

std::string b64url(std::string_view in) {
  std::string s = base64_encode(in);
  for (auto& c : s) c = c == '+' ? '-' : c == '/' ? '_' : c;
  while (!s.empty() && s.back() == '=') s.pop_back();
  return s;
}

std::optional<std::string> from_b64url(std::string_view in) {
  std::string s(in);
  for (auto& c : s) {
    if (c == '-')
      c = '+';
    else if (c == '_')
      c = '/';
    else if (c == '+' || c == '/' || c == '=')
      return std::nullopt;
  }
  while (s.size() % 4) s += '=';
  return base64_decode(s);
}

}  // namespace

std::string WorkloadIdentity::sign(const WorkloadClaims& c) const {
  const std::string kid = keyring_->active_id();
  json header = {{"alg", "HS256"}, {"typ", "JWT"}, {"kid", kid}};
  json payload = {
      {"nomad_namespace", c.ns},
      {"nomad_job_id", c.job_id},
      {"nomad_task_group", c.group},
      {"nomad_task", c.task},
      {"nomad_allocation_id", c.alloc_id},
      {"sub", "global:" + c.ns + ":" + c.job_id + ":" + c.group + ":" + c.task + ":default"},
      {"iat", state::now_ns() / 1000000000}};
  std::string signing_input = b64url(header.dump()) + "." + b64url(payload.dump());
  return signing_input + "." + b64url(keyring_->mac(kid, kPurpose, signing_input));
}

bool WorkloadIdentity::looks_like(std::string_view token) {
  return token.size() > 20 && token.substr(0, 3) == "eyJ" && split(token, '.').size() == 3;
}

std::optional<WorkloadClaims> WorkloadIdentity::verify(std::string_view token) const {
  if (!looks_like(token)) return std::nullopt;
  auto parts = split(token, '.');
  auto header_text = from_b64url(parts[0]);
  auto payload_text = from_b64url(parts[1]);
  auto sig = from_b64url(parts[2]);
  if (!header_text || !payload_text || !sig) return std::nullopt;
  auto header = json::parse(*header_text, nullptr, false);
  if (!header.is_object() || header.value("alg", "") != "HS256" || !header.contains("kid") ||
      !header["kid"].is_string())
    return std::nullopt;
  std::string signing_input(token.substr(0, parts[0].size() + 1 + parts[1].size()));
  auto expect = keyring_->mac(header["kid"].get<std::string>(), kPurpose, signing_input);
  if (expect.empty() || expect.size() != sig->size() ||
      CRYPTO_memcmp(expect.data(), sig->data(), expect.size()) != 0)
    return std::nullopt;
  auto p = json::parse(*payload_text, nullptr, false);
  if (!p.is_object()) return std::nullopt;
  auto str = [&](const char* k) {
    return p.contains(k) && p[k].is_string() ? p[k].get<std::string>() : std::string();
  };
  WorkloadClaims c{str("nomad_namespace"), str("nomad_job_id"), str("nomad_task_group"),
                   str("nomad_task"), str("nomad_allocation_id")};
  if (c.job_id.empty() || c.alloc_id.empty() || c.task.empty()) return std::nullopt;
  return c;
}

bool workload_may_read(const WorkloadClaims& c, std::string_view path) {
  const std::vector<std::string_view> expect = {"nomad", "jobs", c.job_id, c.group, c.task};
  auto parts = split(path, '/');
  if (parts.size() > expect.size()) return false;
  for (std::size_t i = 0; i < parts.size(); ++i)
    if (parts[i] != expect[i]) return false;
  return true;
}

}  // namespace drover::vars
