// consul-template's encoding helpers: base64Encode, base64Decode, base64URLEncode,
// base64URLDecode, sha256Hex, md5sum, hmacSHA256Hex, toJSON, toJSONPretty, toUnescapedJSON,
// toUnescapedJSONPretty, toYAML, parseJSON, parseYAML.
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <yaml-cpp/yaml.h>

#include "drover/common/encoding.hpp"
#include "template/functions.hpp"
#include "template/value.hpp"

namespace drover::tmpl {

using nlohmann::json;

namespace {

using Table = std::map<std::string, Function, std::less<>>;

Result<std::string> one_string(std::vector<json>& a) {
  if (auto st = want_args(a, 1, 1); !st) return st.error();
  return string_arg(a[0]);
}

std::string hex(const unsigned char* p, unsigned n) {
  static const char* d = "0123456789abcdef";
  std::string out;
  for (unsigned i = 0; i < n; ++i) {
    out += d[p[i] >> 4];
    out += d[p[i] & 15];
  }
  return out;
}

Result<json> digest(std::vector<json>& a, const EVP_MD* md) {
  auto s = one_string(a);
  if (!s) return s.error();
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  if (EVP_Digest(s->data(), s->size(), out, &n, md, nullptr) != 1)
    return make_error("digest failed", Errc::Internal);
  return json(hex(out, n));
}

Result<json> sha256_hex(CallContext&, std::vector<json>& a) { return digest(a, EVP_sha256()); }
Result<json> md5sum(CallContext&, std::vector<json>& a) { return digest(a, EVP_md5()); }

// hmacSHA256Hex MESSAGE KEY (consul-template's order).
Result<json> hmac_sha256_hex(CallContext&, std::vector<json>& a) {
  if (auto st = want_args(a, 2, 2); !st) return st.error();
  auto msg = string_arg(a[0]);
  auto key = string_arg(a[1]);
  if (!msg) return msg.error();
  if (!key) return key.error();
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned n = 0;
  if (!HMAC(EVP_sha256(), key->data(), static_cast<int>(key->size()),
            reinterpret_cast<const unsigned char*>(msg->data()), msg->size(), out, &n))
    return make_error("hmac failed", Errc::Internal);
  return json(hex(out, n));
}

Result<json> b64_encode(CallContext&, std::vector<json>& a) {
  auto s = one_string(a);
  if (!s) return s.error();
  return json(base64_encode(*s));
}
Result<json> b64_decode(CallContext&, std::vector<json>& a) {
  auto s = one_string(a);
  if (!s) return s.error();
  auto d = base64_decode(*s);
  if (!d) return make_error("base64Decode: illegal base64 data", Errc::Invalid);
  return json(*d);
}
Result<json> b64url_encode(CallContext&, std::vector<json>& a) {
  auto s = one_string(a);
  if (!s) return s.error();
  return json(base64url_encode(*s, /*padded=*/true));
}
Result<json> b64url_decode(CallContext&, std::vector<json>& a) {
  auto s = one_string(a);
  if (!s) return s.error();
  auto d = base64url_decode(*s, /*padded=*/true);
  if (!d) return make_error("base64URLDecode: illegal base64 data", Errc::Invalid);
  return json(*d);
}

// Go's encoding/json escapes <, > and & for HTML; toUnescapedJSON does not.
std::string html_escape_json(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '<')
      out += "\\u003c";
    else if (c == '>')
      out += "\\u003e";
    else if (c == '&')
      out += "\\u0026";
    else
      out += c;
  }
  return out;
}

json for_json(const json& v) { return is_no_value(v) ? json(nullptr) : v; }

template <bool Pretty, bool Escape>
Result<json> to_json(CallContext&, std::vector<json>& a) {
  if (auto st = want_args(a, 1, 1); !st) return st.error();
  std::string s = for_json(a[0]).dump(Pretty ? 2 : -1, ' ', false, json::error_handler_t::replace);
  return json(Escape ? html_escape_json(s) : s);
}

// Values are printed and encoded recursively: what a template parses may not nest deeper
// than this (counted on [ and { outside strings, before parsing).
constexpr int kMaxDataNesting = 64;

Status check_nesting(const std::string& text, const char* fn) {
  int depth = 0;
  bool in_string = false;
  char quote = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == quote)
        in_string = false;
      continue;
    }
    if (c == '"' || c == '\'') {
      in_string = true;
      quote = c;
    } else if (c == '[' || c == '{') {
      if (++depth > kMaxDataNesting)
        return make_error(
            std::string(fn) + ": nested more than " + std::to_string(kMaxDataNesting) + " deep",
            Errc::Invalid);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return {};
}

Result<json> parse_json(CallContext&, std::vector<json>& a) {
  auto s = one_string(a);
  if (!s) return s.error();
  if (auto st = check_nesting(*s, "parseJSON"); !st) return st.error();
  try {
    return json::parse(*s);
  } catch (const json::parse_error& e) {
    return make_error(std::string("parseJSON: ") + e.what(), Errc::Invalid);
  }
}

void emit_yaml(YAML::Emitter& out, const json& v) {
  switch (v.type()) {
    case json::value_t::object:
      out << YAML::BeginMap;
      for (auto it = v.begin(); it != v.end(); ++it) {
        out << YAML::Key << it.key() << YAML::Value;
        emit_yaml(out, it.value());
      }
      out << YAML::EndMap;
      break;
    case json::value_t::array:
      out << YAML::BeginSeq;
      for (const auto& e : v) emit_yaml(out, e);
      out << YAML::EndSeq;
      break;
    case json::value_t::string:
      out << v.get<std::string>();
      break;
    case json::value_t::boolean:
      out << v.get<bool>();
      break;
    case json::value_t::number_integer:
      out << v.get<int64_t>();
      break;
    case json::value_t::number_unsigned:
      out << v.get<uint64_t>();
      break;
    case json::value_t::number_float:
      out << format_float(v.get<double>());
      break;
    default:
      out << YAML::Null;
  }
}

Result<json> to_yaml(CallContext&, std::vector<json>& a) {
  if (auto st = want_args(a, 1, 1); !st) return st.error();
  YAML::Emitter out;
  out.SetIndent(2);
  emit_yaml(out, for_json(a[0]));
  if (!out.good()) return make_error(std::string("toYAML: ") + out.GetLastError(), Errc::Invalid);
  std::string s = out.c_str();
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return json(s);
}

json yaml_to_json(const YAML::Node& n, int depth) {
  if (depth > kMaxDataNesting)
    throw YAML::Exception(YAML::Mark::null_mark(), "nested more than 64 deep");
  switch (n.Type()) {
    case YAML::NodeType::Map: {
      json o = json::object();
      for (const auto& kv : n) o[kv.first.as<std::string>()] = yaml_to_json(kv.second, depth + 1);
      return o;
    }
    case YAML::NodeType::Sequence: {
      json arr = json::array();
      for (const auto& e : n) arr.push_back(yaml_to_json(e, depth + 1));
      return arr;
    }
    case YAML::NodeType::Scalar: {
      const std::string& s = n.Scalar();
      if (n.Tag() == "!") return s;  // quoted
      int64_t i;
      double d;
      bool b;
      if (YAML::convert<int64_t>::decode(n, i)) return i;
      if (YAML::convert<double>::decode(n, d)) return d;
      if (YAML::convert<bool>::decode(n, b)) return b;
      return s;
    }
    default:
      return nullptr;
  }
}

Result<json> parse_yaml(CallContext&, std::vector<json>& a) {
  auto s = one_string(a);
  if (!s) return s.error();
  // yaml-cpp recurses on block nesting as well: a bounded input bounds it.
  if (s->size() > (1u << 20))
    return make_error("parseYAML: input larger than 1 MiB", Errc::Invalid);
  if (auto st = check_nesting(*s, "parseYAML"); !st) return st.error();
  try {
    return yaml_to_json(YAML::Load(*s), 0);
  } catch (const YAML::Exception& e) {
    return make_error(std::string("parseYAML: ") + e.what(), Errc::Invalid);
  }
}

}  // namespace

void add_encoding_functions(Table& t) {
  t["base64Encode"] = b64_encode;
  t["base64Decode"] = b64_decode;
  t["base64URLEncode"] = b64url_encode;
  t["base64URLDecode"] = b64url_decode;
  t["sha256Hex"] = sha256_hex;
  t["md5sum"] = md5sum;
  t["hmacSHA256Hex"] = hmac_sha256_hex;
  t["toJSON"] = to_json<false, true>;
  t["toJSONPretty"] = to_json<true, true>;
  t["toUnescapedJSON"] = to_json<false, false>;
  t["toUnescapedJSONPretty"] = to_json<true, false>;
  t["toYAML"] = to_yaml;
  t["parseJSON"] = parse_json;
  t["parseYAML"] = parse_yaml;
}

}  // namespace drover::tmpl
