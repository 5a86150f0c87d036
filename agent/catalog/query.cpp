// Service summary, tag and filter selection, and choose; see query.hpp.
#include "catalog/query.hpp"

#include <openssl/evp.h>

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>
#include <optional>
#include <set>

namespace drover::catalog {

nlohmann::json services_summary(const std::vector<ServiceRegistration>& all) {
  std::map<std::string, std::map<std::string, std::set<std::string>>> by_ns;
  for (const auto& r : all) {
    auto& tags = by_ns[r.namespace_][r.service_name];
    tags.insert(r.tags.begin(), r.tags.end());
  }
  auto out = nlohmann::json::array();
  for (const auto& [ns, services] : by_ns) {
    auto list = nlohmann::json::array();
    for (const auto& [name, tags] : services)
      list.push_back(
          {{"ServiceName", name}, {"Tags", std::vector<std::string>(tags.begin(), tags.end())}});
    out.push_back({{"Namespace", ns}, {"Services", list}});
  }
  return out;
}

std::vector<ServiceRegistration> of_service(const std::vector<ServiceRegistration>& all,
                                            const std::string& name) {
  std::vector<ServiceRegistration> out;
  for (const auto& r : all)
    if (r.service_name == name) out.push_back(r);
  return out;
}

static bool has_tag(const ServiceRegistration& r, const std::string& tag) {
  return std::find(r.tags.begin(), r.tags.end(), tag) != r.tags.end();
}

std::vector<ServiceRegistration> with_tag(std::vector<ServiceRegistration> list,
                                          const std::string& tag) {
  if (tag.empty()) return list;
  std::erase_if(list, [&](const auto& r) { return !has_tag(r, tag); });
  return list;
}

namespace {

// Words and quoted strings of a filter expression.
struct Token {
  std::string text;
  bool quoted = false;
};

Result<std::vector<Token>> tokenize(const std::string& s) {
  std::vector<Token> out;
  std::size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '"' || c == '`') {
      std::string v;
      std::size_t j = i + 1;
      for (; j < s.size() && s[j] != c; ++j) {
        if (s[j] == '\\' && c == '"' && j + 1 < s.size()) ++j;
        v += s[j];
      }
      if (j >= s.size())
        return make_error("filter: unterminated string at offset " + std::to_string(i),
                          Errc::Invalid);
      out.push_back({v, true});
      i = j + 1;
    } else if (c == '=' || c == '!') {
      if (i + 1 < s.size() && s[i + 1] == '=') {
        out.push_back({s.substr(i, 2), false});
        i += 2;
      } else {
        return make_error(
            "filter: unexpected '" + std::string(1, c) + "' at offset " + std::to_string(i),
            Errc::Invalid);
      }
    } else {
      std::size_t j = i;
      while (j < s.size() && !std::isspace(static_cast<unsigned char>(s[j])) && s[j] != '"' &&
             s[j] != '=' && s[j] != '!')
        ++j;
      out.push_back({s.substr(i, j - i), false});
      i = j;
    }
  }
  return out;
}

using Pred = std::function<bool(const ServiceRegistration&)>;

std::optional<std::string> field(const ServiceRegistration& r, const std::string& name) {
  if (name == "ID") return r.id;
  if (name == "ServiceName") return r.service_name;
  if (name == "Namespace") return r.namespace_;
  if (name == "NodeID") return r.node_id;
  if (name == "Datacenter") return r.datacenter;
  if (name == "JobID") return r.job_id;
  if (name == "AllocID") return r.alloc_id;
  if (name == "Task") return r.task;
  if (name == "Address") return r.address;
  if (name == "Port") return std::to_string(r.port);
  if (name == "Health") return r.health;  // drover's: docs/networking.md, "Health"
  return std::nullopt;
}

// One clause from tokens [i, end); advances i.
Result<Pred> clause(const std::vector<Token>& t, std::size_t& i) {
  auto at = [&](std::size_t k) -> const Token* { return i + k < t.size() ? &t[i + k] : nullptr; };
  auto word = [&](std::size_t k, const char* w) {
    return at(k) && !at(k)->quoted && at(k)->text == w;
  };
  // "v" in Tags | "v" not in Tags
  if (at(0) && at(0)->quoted) {
    bool negate = word(1, "not");
    std::size_t k = negate ? 2 : 1;
    if (word(k, "in") && word(k + 1, "Tags")) {
      std::string v = at(0)->text;
      i += k + 2;
      return Pred([v, negate](const ServiceRegistration& r) { return has_tag(r, v) != negate; });
    }
  }
  if (word(0, "Tags")) {
    bool negate = word(1, "not");
    std::size_t k = negate ? 2 : 1;
    if (word(k, "contains") && at(k + 1) && at(k + 1)->quoted) {
      std::string v = at(k + 1)->text;
      i += k + 2;
      return Pred([v, negate](const ServiceRegistration& r) { return has_tag(r, v) != negate; });
    }
  }
  if (at(0) && !at(0)->quoted && at(1) && (at(1)->text == "==" || at(1)->text == "!=") && at(2)) {
    std::string name = at(0)->text;
    ServiceRegistration probe;
    if (!field(probe, name))
      return make_error("filter: unknown field \"" + name + "\"", Errc::Invalid);
    bool negate = at(1)->text == "!=";
    std::string v = at(2)->text;
    i += 3;
    return Pred([name, v, negate](const ServiceRegistration& r) {
      return (*field(r, name) == v) != negate;
    });
  }
  std::string near;
  for (std::size_t k = i; k < t.size() && k < i + 4; ++k)
    near += (near.empty() ? "" : " ") + t[k].text;
  return make_error("filter: cannot read \"" + near +
                        "\" (drover reads: \"v\" in Tags, Tags contains "
                        "\"v\", Field == \"v\", Field != \"v\", joined by and)",
                    Errc::Invalid);
}

}  // namespace

Result<std::vector<ServiceRegistration>> filtered(std::vector<ServiceRegistration> list,
                                                  const std::string& expression) {
  auto tokens = tokenize(expression);
  if (!tokens) return tokens.error();
  const auto& t = tokens.value();
  if (t.empty()) return list;
  std::vector<Pred> preds;
  std::size_t i = 0;
  for (;;) {
    auto p = clause(t, i);
    if (!p) return p.error();
    preds.push_back(std::move(p.value()));
    if (i == t.size()) break;
    if (t[i].quoted || t[i].text != "and")
      return make_error("filter: expected \"and\" before \"" + t[i].text + "\"", Errc::Invalid);
    ++i;
  }
  std::erase_if(list, [&](const auto& r) {
    return !std::all_of(preds.begin(), preds.end(), [&](const Pred& p) { return p(r); });
  });
  return list;
}

std::string hash_with(const ServiceRegistration& r, const std::string& key) {
  // Go's binary.PutVarint into an 8-byte buffer: zigzag, then 7 bits a byte; all 8 bytes hashed.
  unsigned char buf[8] = {};
  uint64_t ux = static_cast<uint64_t>(static_cast<int64_t>(r.port)) << 1;
  if (r.port < 0) ux = ~ux;
  for (int k = 0; k < 8; ++k) {
    if (ux < 0x80) {
      buf[k] = static_cast<unsigned char>(ux);
      break;
    }
    buf[k] = static_cast<unsigned char>(ux | 0x80);
    ux >>= 7;
  }
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestInit_ex(ctx, EVP_md5(), nullptr);
  auto add = [&](const std::string& s) { EVP_DigestUpdate(ctx, s.data(), s.size()); };
  EVP_DigestUpdate(ctx, buf, sizeof buf);
  add(r.alloc_id);
  add(r.id);
  add(r.namespace_);
  add(r.address);
  add(r.service_name);
  for (const auto& tag : r.tags) add(tag);
  add(key);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_DigestFinal_ex(ctx, out, &n);
  EVP_MD_CTX_free(ctx);
  static const char* digits = "0123456789abcdef";
  std::string hex;
  for (unsigned int k = 0; k < n; ++k) {
    hex += digits[out[k] >> 4];
    hex += digits[out[k] & 15];
  }
  return hex;
}

Result<std::vector<ServiceRegistration>> choose(const std::vector<ServiceRegistration>& list,
                                                const std::string& spec) {
  auto bar = spec.find('|');
  auto bad = [&] {
    return make_error("choose: \"" + spec + "\" is not <number>|<key> (e.g. 2|my-client)",
                      Errc::Invalid);
  };
  if (bar == std::string::npos || bar == 0 || bar + 1 >= spec.size()) return bad();
  std::size_t n = 0;
  for (std::size_t k = 0; k < bar; ++k) {
    if (!std::isdigit(static_cast<unsigned char>(spec[k])) || n > 1000000) return bad();
    n = n * 10 + static_cast<std::size_t>(spec[k] - '0');
  }
  const std::string key = spec.substr(bar + 1);
  std::vector<std::pair<std::string, const ServiceRegistration*>> ranked;
  for (const auto& r : list) ranked.emplace_back(hash_with(r, key), &r);
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  std::vector<ServiceRegistration> out;
  for (std::size_t k = 0; k < ranked.size() && k < n; ++k) out.push_back(*ranked[k].second);
  return out;
}

}  // namespace drover::catalog
