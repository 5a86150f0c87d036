// The HCL functions a Nomad job file can call (Nomad's jobspec2 function set, as far as
// docs/jobspec.md lists it): string, collection, numeric, type conversion, encoding, hash and
// file functions. Each checks its arguments and names itself in its errors.
#include <openssl/evp.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "drover/common/encoding.hpp"
#include "jobspec/did_you_mean.hpp"
#include "jobspec/yaml_to_json.hpp"
#include "jobspec/hcl/eval.hpp"
#include "jobspec/hcl/function_call.hpp"

namespace drover::jobspec::hcl {

using nlohmann::json;

namespace {

// ---- text ----

// UTF-8 characters of s, as byte offsets (s.size() at the end).
std::vector<std::size_t> char_starts(const std::string& s) {
  std::vector<std::size_t> starts;
  for (std::size_t i = 0; i < s.size(); ++i)
    if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80) starts.push_back(i);
  starts.push_back(s.size());
  return starts;
}

bool space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

std::string trim_space(std::string s) {
  std::size_t b = 0, e = s.size();
  while (b < e && space(s[b])) ++b;
  while (e > b && space(s[e - 1])) --e;
  return s.substr(b, e - b);
}

std::string replace_all(std::string s, const std::string& from, const std::string& to,
                        const Call& c) {
  if (from.empty()) return s;
  std::string out;
  std::size_t pos = 0;
  while (true) {
    auto hit = s.find(from, pos);
    if (hit == std::string::npos) break;
    out.append(s, pos, hit - pos);
    out += to;
    pos = hit + from.size();
    c.ev.check_size(out.size(), c.at);
  }
  out.append(s, pos, std::string::npos);
  return out;
}

// Go's regexp replacement uses $1 / ${1}; std::regex uses $1 too.
std::string regex_replace_all(const std::string& s, const std::string& pattern,
                              const std::string& repl, const Call& c) {
  try {
    std::regex re(pattern, std::regex::ECMAScript);
    std::string r = std::regex_replace(s, re, repl);
    c.ev.check_size(r.size(), c.at);
    return r;
  } catch (const std::regex_error& e) {
    c.fail("invalid regular expression \"" + pattern + "\": " + e.what());
  }
}

// Go's fmt verbs as HCL's format() takes them: %s %d %f %e %g %t %v %q %x %X %o %b and %%,
// with flags, width and precision.
std::string format_one(const Call& c, std::string_view spec, char verb, const json& v) {
  auto natural = [&](const json& x) -> std::string {
    if (x.is_string()) return x.get<std::string>();
    if (x.is_number()) return number_text(x);
    if (x.is_boolean()) return x.get<bool>() ? "true" : "false";
    if (x.is_null()) return "null";
    return x.dump();
  };
  std::string flags(spec.substr(0, spec.size()));
  for (std::size_t i = 0; i < flags.size();) {  // every width and precision fits the buffer
    std::size_t j = i;
    while (j < flags.size() && std::isdigit(static_cast<unsigned char>(flags[j]))) ++j;
    if (j > i && std::stol(flags.substr(i, j - i)) > 400)
      c.fail("a width or precision over 400 in the format string");
    i = j == i ? i + 1 : j;
  }
  char buf[512];
  auto pad = [&](std::string s) {
    int width = 0;
    bool left = false, zero = false;
    std::size_t i = 0;
    while (i < flags.size() && std::string_view("-+ #0").find(flags[i]) != std::string_view::npos) {
      left = left || flags[i] == '-';
      zero = zero || flags[i] == '0';
      ++i;
    }
    while (i < flags.size() && std::isdigit(static_cast<unsigned char>(flags[i])))
      width = width * 10 + (flags[i++] - '0');
    c.ev.check_size(static_cast<std::size_t>(width), c.at);
    std::size_t chars = char_starts(s).size() - 1;
    if (static_cast<std::size_t>(width) > chars) {
      std::string fill(static_cast<std::size_t>(width) - chars, zero && !left ? '0' : ' ');
      s = left ? s + fill : fill + s;
    }
    return s;
  };
  switch (verb) {
    case 's':
    case 'v': {
      std::string s = verb == 's' ? as_string(v, c.at, "format() %s value") : natural(v);
      auto dot = flags.find('.');
      if (dot != std::string::npos) {
        std::size_t prec = std::strtoul(flags.c_str() + dot + 1, nullptr, 10);
        auto starts = char_starts(s);
        if (prec + 1 < starts.size()) s = s.substr(0, starts[prec]);
        flags.erase(dot);
      }
      return pad(s);
    }
    case 'q':
      return pad(json(as_string(v, c.at, "format() %q value")).dump());
    case 't':
      return pad(as_bool(v, c.at, "format() %t value") ? "true" : "false");
    case 'd':
    case 'x':
    case 'X':
    case 'o':
    case 'b': {
      long long n = as_integer(v, c.at, std::string("format() %") + verb + " value");
      if (verb == 'b') {
        std::string bits;
        unsigned long long u = n < 0 ? -static_cast<unsigned long long>(n) : n;
        do bits.insert(bits.begin(), static_cast<char>('0' + (u & 1)));
        while (u >>= 1);
        return pad((n < 0 ? "-" : "") + bits);
      }
      std::string f = "%" + flags + "ll" + (verb == 'd' ? 'd' : verb);
      std::snprintf(buf, sizeof buf, f.c_str(), n);
      return buf;
    }
    case 'f':
    case 'F':
    case 'e':
    case 'E':
    case 'g':
    case 'G': {
      double d = as_double(v, c.at, std::string("format() %") + verb + " value");
      std::string f = "%" + flags + verb;
      std::snprintf(buf, sizeof buf, f.c_str(), d);
      return buf;
    }
    default:
      c.fail(std::string("unsupported verb %") + verb);
  }
}

std::string format_text(const Call& c, const std::string& fmt, const Args& values) {
  std::string out;
  std::size_t next = 0;
  for (std::size_t i = 0; i < fmt.size(); ++i) {
    if (fmt[i] != '%') {
      out += fmt[i];
      continue;
    }
    if (i + 1 < fmt.size() && fmt[i + 1] == '%') {
      out += '%';
      ++i;
      continue;
    }
    std::size_t j = i + 1;
    while (j < fmt.size() &&
           std::string_view("-+ #0123456789.").find(fmt[j]) != std::string_view::npos)
      ++j;
    if (j >= fmt.size()) c.fail("format string ends inside a verb");
    if (j - i > 20) c.fail("verb too long");
    if (next >= values.size())
      c.fail("not enough arguments for the format string (" + std::to_string(values.size()) +
             " given)");
    out += format_one(c, std::string_view(fmt).substr(i + 1, j - i - 1), fmt[j], values[next++]);
    c.ev.check_size(out.size(), c.at);
    i = j;
  }
  if (next < values.size())
    c.fail("too many arguments for the format string (" + std::to_string(values.size()) +
           " given, " + std::to_string(next) + " used)");
  return out;
}

// ---- collections ----

void flatten_into(const json& list, json& out, int depth, const Call& c) {
  if (depth > 64) c.fail("lists nested too deep");
  for (const auto& item : list) {
    if (item.is_array())
      flatten_into(item, out, depth + 1, c);
    else
      out.push_back(item);
  }
}

// ---- encoding ----

YAML::Node to_yaml(const json& v) {
  if (v.is_object()) {
    YAML::Node n(YAML::NodeType::Map);
    for (const auto& [k, item] : v.items()) n[k] = to_yaml(item);
    return n;
  }
  if (v.is_array()) {
    YAML::Node n(YAML::NodeType::Sequence);
    for (const auto& item : v) n.push_back(to_yaml(item));
    return n;
  }
  if (v.is_null()) return YAML::Node(YAML::NodeType::Null);
  if (v.is_string()) return YAML::Node(v.get<std::string>());
  if (v.is_boolean()) return YAML::Node(v.get<bool>());
  return YAML::Node(number_text(v));
}

std::string digest(const Call& c, const EVP_MD* md) {
  std::string in = c.str(0);
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(in.data(), in.size(), out, &len, md, nullptr) != 1) c.fail("digest failed");
  static const char* hex = "0123456789abcdef";
  std::string text;
  for (unsigned int i = 0; i < len; ++i) {
    text += hex[out[i] >> 4];
    text += hex[out[i] & 15];
  }
  return text;
}

// RFC 4122 version 5: SHA-1 of the namespace's 16 bytes and the name.
std::string uuid_v5(const Call& c) {
  std::string ns = c.str(0);
  if (ns == "dns")
    ns = "6ba7b810-9dad-11d1-80b4-00c04fd430c8";
  else if (ns == "url")
    ns = "6ba7b811-9dad-11d1-80b4-00c04fd430c8";
  else if (ns == "oid")
    ns = "6ba7b812-9dad-11d1-80b4-00c04fd430c8";
  else if (ns == "x500")
    ns = "6ba7b814-9dad-11d1-80b4-00c04fd430c8";
  std::string bytes;
  for (std::size_t i = 0; i < ns.size(); ++i) {
    if (ns[i] == '-') continue;
    if (i + 1 >= ns.size() || !std::isxdigit(static_cast<unsigned char>(ns[i])) ||
        !std::isxdigit(static_cast<unsigned char>(ns[i + 1])))
      c.fail("namespace must be dns, url, oid, x500 or a UUID");
    bytes += static_cast<char>(std::stoi(ns.substr(i, 2), nullptr, 16));
    ++i;
  }
  if (bytes.size() != 16) c.fail("namespace must be dns, url, oid, x500 or a UUID");
  bytes += c.str(1);
  unsigned char h[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(bytes.data(), bytes.size(), h, &len, EVP_sha1(), nullptr);
  h[6] = static_cast<unsigned char>((h[6] & 0x0F) | 0x50);
  h[8] = static_cast<unsigned char>((h[8] & 0x3F) | 0x80);
  static const char* hex = "0123456789abcdef";
  std::string out;
  for (int i = 0; i < 16; ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10) out += '-';
    out += hex[h[i] >> 4];
    out += hex[h[i] & 15];
  }
  return out;
}

// ---- files ----

std::filesystem::path resolve(const Call& c, const std::string& path) {
  if (c.ev.base_dir().empty())
    c.fail(
        "the file functions work only where the job file is read: `drover job run` and "
        "`drover job validate` read the files on your machine; the agent reads none of its "
        "own");
  std::filesystem::path p(path);
  if (!path.empty() && path[0] == '~') {
    const char* home = std::getenv("HOME");
    if (home) p = std::filesystem::path(home) / path.substr(path.size() > 1 ? 2 : 1);
  }
  if (p.is_relative()) p = std::filesystem::path(c.ev.base_dir()) / p;
  return p;
}

std::string read_file(const Call& c, const std::string& path) {
  auto p = resolve(c, path);
  std::error_code ec;
  if (std::filesystem::is_directory(p, ec)) c.fail("\"" + path + "\" is a directory");
  std::ifstream in(p, std::ios::binary);
  if (!in) c.fail("cannot read \"" + path + "\" (" + p.string() + ")");
  std::string text;
  char buf[65536];
  while (in.read(buf, sizeof buf) || in.gcount() > 0) {
    text.append(buf, static_cast<std::size_t>(in.gcount()));
    if (text.size() > c.ev.limits().max_file_bytes)
      c.fail("\"" + path + "\" is larger than " + std::to_string(c.ev.limits().max_file_bytes) +
             " bytes");
  }
  return text;
}

// RFC 4180 text, the first row the keys: a list of maps of strings, as Terraform's csvdecode.
json csv_decode(const Call& c) {
  const std::string text = c.str(0);
  std::vector<std::vector<std::string>> rows(1);
  std::string field;
  bool quoted = false, any = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char ch = text[i];
    if (quoted) {
      if (ch == '"' && i + 1 < text.size() && text[i + 1] == '"') field += '"', ++i;
      else if (ch == '"') quoted = false;
      else field += ch;
    } else if (ch == '"' && field.empty()) {
      quoted = any = true;
    } else if (ch == ',') {
      rows.back().push_back(std::move(field));
      field.clear();
    } else if (ch == '\n' || ch == '\r') {
      if (ch == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      rows.back().push_back(std::move(field));
      field.clear();
      rows.emplace_back();
    } else {
      field += ch;
      any = true;
    }
    c.ev.check_size(rows.size(), c.at);
  }
  if (quoted) c.fail("a quoted field is not closed");
  if (!field.empty() || !rows.back().empty()) rows.back().push_back(std::move(field));
  if (rows.back().empty()) rows.pop_back();
  (void)any;
  if (rows.empty()) c.fail("the CSV has no header row");
  const auto& keys = rows.front();
  json out = json::array();
  for (std::size_t r = 1; r < rows.size(); ++r) {
    if (rows[r].size() != keys.size())
      c.fail("row " + std::to_string(r + 1) + " has " + std::to_string(rows[r].size()) +
             " fields, the header " + std::to_string(keys.size()));
    json row = json::object();
    for (std::size_t k = 0; k < keys.size(); ++k) row[keys[k]] = rows[r][k];
    out.push_back(std::move(row));
  }
  return out;
}

}  // namespace

// ---- the table ----

static const FunctionTable& table() {
  static const FunctionTable t = [] {
    FunctionTable all = core_functions();
    add_set_functions(all);
    add_net_functions(all);
    add_time_functions(all);
    return all;
  }();
  return t;
}

FunctionTable core_functions() {
  FunctionTable t = {
      // strings
      {"chomp", {1, 1, [](const Call& c) -> json {
         std::string s = c.str(0);
         while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
         return s; }}},
      {"endswith", {2, 2, [](const Call& c) -> json {
         std::string s = c.str(0), x = c.str(1);
         return s.size() >= x.size() && s.compare(s.size() - x.size(), x.size(), x) == 0; }}},
      {"format", {1, -1, [](const Call& c) -> json {
         Args rest(c.args.begin() + 1, c.args.end());
         return format_text(c, c.str(0), rest); }}},
      {"formatlist", {1, -1, [](const Call& c) -> json {
         std::size_t n = std::string::npos;
         for (std::size_t i = 1; i < c.args.size(); ++i)
           if (c.args[i].is_array()) {
             if (n != std::string::npos && n != c.args[i].size())
               c.fail("all list arguments must have the same length");
             n = c.args[i].size();
           }
         if (n == std::string::npos) n = 1;
         json out = json::array();
         for (std::size_t k = 0; k < n; ++k) {
           Args row;
           for (std::size_t i = 1; i < c.args.size(); ++i)
             row.push_back(c.args[i].is_array() ? c.args[i][k] : c.args[i]);
           out.push_back(format_text(c, c.str(0), row));
         }
         return out; }}},
      {"indent", {2, 2, [](const Call& c) -> json {
         std::string pad(static_cast<std::size_t>(std::clamp<std::int64_t>(c.integer(0), 0, 1024)), ' ');
         return replace_all(c.str(1), "\n", "\n" + pad, c); }}},
      {"join", {2, -1, [](const Call& c) -> json {
         std::string sep = c.str(0), out;
         bool first = true;
         for (std::size_t i = 1; i < c.args.size(); ++i)
           for (const auto& item : c.list(i)) {
             if (!first) out += sep;
             out += as_string(item, c.at, "join() element");
             first = false;
             c.ev.check_size(out.size(), c.at);
           }
         return out; }}},
      {"lower", {1, 1, [](const Call& c) -> json {
         std::string s = c.str(0);
         for (auto& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
         return s; }}},
      {"regex", {2, 2, [](const Call& c) -> json {
         std::string pattern = c.str(0), s = c.str(1);
         try {
           std::smatch m;
           if (!std::regex_search(s, m, std::regex(pattern))) c.fail("pattern did not match");
           if (m.size() == 1) return m.str(0);
           json out = json::array();
           for (std::size_t i = 1; i < m.size(); ++i) out.push_back(m.str(i));
           return out;
         } catch (const std::regex_error& e) {
           c.fail("invalid regular expression: " + std::string(e.what()));
         } }}},
      {"regexall", {2, 2, [](const Call& c) -> json {
         std::string pattern = c.str(0), s = c.str(1);
         try {
           std::regex re(pattern);
           json out = json::array();
           for (auto it = std::sregex_iterator(s.begin(), s.end(), re); it != std::sregex_iterator();
                ++it) {
             const std::smatch& m = *it;
             if (m.size() == 1) {
               out.push_back(m.str(0));
             } else {
               json groups = json::array();
               for (std::size_t i = 1; i < m.size(); ++i) groups.push_back(m.str(i));
               out.push_back(std::move(groups));
             }
             c.ev.check_size(out.size(), c.at);
             if (m.length(0) == 0) break;  // an empty match would repeat for ever
           }
           return out;
         } catch (const std::regex_error& e) {
           c.fail("invalid regular expression: " + std::string(e.what()));
         } }}},
      {"regex_replace", {3, 3, [](const Call& c) -> json {
         return regex_replace_all(c.str(0), c.str(1), c.str(2), c); }}},
      {"replace", {3, 3, [](const Call& c) -> json {
         std::string s = c.str(0), from = c.str(1), to = c.str(2);
         // "/re/" is a regular expression, as in Terraform and Nomad.
         if (from.size() >= 2 && from.front() == '/' && from.back() == '/')
           return regex_replace_all(s, from.substr(1, from.size() - 2), to, c);
         return replace_all(s, from, to, c); }}},
      {"split", {2, 2, [](const Call& c) -> json {
         std::string sep = c.str(0), s = c.str(1);
         json out = json::array();
         if (sep.empty()) {
           auto starts = char_starts(s);
           for (std::size_t i = 0; i + 1 < starts.size(); ++i)
             out.push_back(s.substr(starts[i], starts[i + 1] - starts[i]));
           return out;
         }
         std::size_t pos = 0;
         while (true) {
           auto hit = s.find(sep, pos);
           out.push_back(s.substr(pos, hit == std::string::npos ? std::string::npos : hit - pos));
           if (hit == std::string::npos) break;
           pos = hit + sep.size();
         }
         return out; }}},
      {"startswith", {2, 2, [](const Call& c) -> json { return c.str(0).rfind(c.str(1), 0) == 0; }}},
      {"strcontains", {2, 2, [](const Call& c) -> json {
         return c.str(0).find(c.str(1)) != std::string::npos; }}},
      {"strlen", {1, 1, [](const Call& c) -> json {
         return static_cast<std::int64_t>(char_starts(c.str(0)).size() - 1); }}},
      {"strrev", {1, 1, [](const Call& c) -> json {
         std::string s = c.str(0), out;
         auto starts = char_starts(s);
         for (std::size_t i = starts.size() - 1; i > 0; --i)
           out += s.substr(starts[i - 1], starts[i] - starts[i - 1]);
         return out; }}},
      {"substr", {3, 3, [](const Call& c) -> json {
         std::string s = c.str(0);
         auto starts = char_starts(s);
         std::int64_t chars = static_cast<std::int64_t>(starts.size()) - 1;
         std::int64_t off = c.integer(1), len = c.integer(2);
         if (off < 0) off += chars;
         if (off < 0 || off > chars) c.fail("offset is out of range");
         std::int64_t end = len < 0 ? chars : std::min(chars, off + len);
         return s.substr(starts[off], starts[end] - starts[off]); }}},
      {"title", {1, 1, [](const Call& c) -> json {
         std::string s = c.str(0);
         bool start = true;
         for (auto& ch : s) {
           if (start && std::isalpha(static_cast<unsigned char>(ch)))
             ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
           start = space(ch);
         }
         return s; }}},
      {"trim", {2, 2, [](const Call& c) -> json {
         std::string s = c.str(0), cut = c.str(1);
         std::size_t b = s.find_first_not_of(cut);
         if (b == std::string::npos) return "";
         return s.substr(b, s.find_last_not_of(cut) - b + 1); }}},
      {"trimprefix", {2, 2, [](const Call& c) -> json {
         std::string s = c.str(0), p = c.str(1);
         return s.rfind(p, 0) == 0 ? s.substr(p.size()) : s; }}},
      {"trimspace", {1, 1, [](const Call& c) -> json { return trim_space(c.str(0)); }}},
      {"trimsuffix", {2, 2, [](const Call& c) -> json {
         std::string s = c.str(0), x = c.str(1);
         if (s.size() >= x.size() && s.compare(s.size() - x.size(), x.size(), x) == 0)
           return s.substr(0, s.size() - x.size());
         return s; }}},
      {"upper", {1, 1, [](const Call& c) -> json {
         std::string s = c.str(0);
         for (auto& ch : s) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
         return s; }}},

      // collections
      {"alltrue", {1, 1, [](const Call& c) -> json {
         for (const auto& v : c.list(0)) if (!as_bool(v, c.at, "alltrue() element")) return false;
         return true; }}},
      {"anytrue", {1, 1, [](const Call& c) -> json {
         for (const auto& v : c.list(0)) if (as_bool(v, c.at, "anytrue() element")) return true;
         return false; }}},
      {"chunklist", {2, 2, [](const Call& c) -> json {
         std::int64_t size = c.integer(1);
         if (size < 0) c.fail("the chunk size must not be negative");
         json out = json::array();
         const json& l = c.list(0);
         if (size == 0) return json::array({l});
         for (std::size_t i = 0; i < l.size(); i += static_cast<std::size_t>(size))
           out.push_back(json(l.begin() + i, l.begin() + std::min(l.size(), i + size)));
         return out; }}},
      {"coalesce", {1, -1, [](const Call& c) -> json {
         for (const auto& v : c.args)
           if (!v.is_null() && v != "") return v;
         c.fail("no non-null, non-empty argument"); }}},
      {"coalescelist", {1, -1, [](const Call& c) -> json {
         for (std::size_t i = 0; i < c.args.size(); ++i)
           if (!c.list(i).empty()) return c.args[i];
         return json::array(); }}},
      {"compact", {1, 1, [](const Call& c) -> json {
         json out = json::array();
         for (const auto& v : c.list(0)) if (!v.is_null() && v != "") out.push_back(v);
         return out; }}},
      {"concat", {1, -1, [](const Call& c) -> json {
         json out = json::array();
         for (std::size_t i = 0; i < c.args.size(); ++i)
           for (const auto& v : c.list(i)) out.push_back(v);
         return c.sized(std::move(out)); }}},
      {"contains", {2, 2, [](const Call& c) -> json {
         for (const auto& v : c.list(0)) if (values_equal(v, c.args[1])) return true;
         return false; }}},
      {"distinct", {1, 1, [](const Call& c) -> json {
         json out = json::array();
         Distinct seen;
         for (const auto& v : c.list(0))
           if (seen.first(v)) out.push_back(v);
         return out; }}},
      {"element", {2, 2, [](const Call& c) -> json {
         const json& l = c.list(0);
         if (l.empty()) c.fail("cannot use element() on an empty list");
         std::int64_t i = c.integer(1);
         if (i < 0) c.fail("the index must not be negative");
         return l[static_cast<std::size_t>(i) % l.size()]; }}},
      {"flatten", {1, 1, [](const Call& c) -> json {
         json out = json::array();
         flatten_into(c.list(0), out, 0, c);
         return out; }}},
      {"index", {2, 2, [](const Call& c) -> json {
         const json& l = c.list(0);
         for (std::size_t i = 0; i < l.size(); ++i)
           if (values_equal(l[i], c.args[1])) return static_cast<std::int64_t>(i);
         c.fail("the value is not in the list"); }}},
      {"keys", {1, 1, [](const Call& c) -> json {
         json out = json::array();
         for (const auto& [k, v] : c.map(0).items()) out.push_back(k);
         return out; }}},
      {"length", {1, 1, [](const Call& c) -> json {
         const json& v = c.args[0];
         if (v.is_string()) return static_cast<std::int64_t>(char_starts(v.get<std::string>()).size() - 1);
         if (v.is_array() || v.is_object()) return static_cast<std::int64_t>(v.size());
         c.fail("takes a string, a list or a map, got " + (v.is_null() ? std::string("null") : "a " + type_name(v))); }}},
      {"lookup", {2, 3, [](const Call& c) -> json {
         const json& m = c.map(0);
         std::string k = c.str(1);
         auto it = m.find(k);
         if (it != m.end()) return *it;
         if (c.args.size() == 3) return c.args[2];
         c.fail("no key \"" + k + "\" in the map and no default given"); }}},
      {"merge", {0, -1, [](const Call& c) -> json {
         json out = json::object();
         for (std::size_t i = 0; i < c.args.size(); ++i) {
           if (c.args[i].is_null()) continue;
           for (const auto& [k, v] : c.map(i).items()) out[k] = v;
         }
         return out; }}},
      {"one", {1, 1, [](const Call& c) -> json {
         const json& l = c.list(0);
         if (l.size() > 1) c.fail("the list has more than one element");
         return l.empty() ? json(nullptr) : l[0]; }}},
      {"range", {1, 3, [](const Call& c) -> json {
         double start = 0, limit, step = 1;
         if (c.args.size() == 1) {
           limit = c.number(0);
         } else {
           start = c.number(0);
           limit = c.number(1);
           if (c.args.size() == 3) step = c.number(2);
           else if (limit < start) step = -1;
         }
         if (step == 0) c.fail("the step must not be zero");
         if ((step > 0 && limit < start) || (step < 0 && limit > start))
           c.fail("the step goes away from the limit");
         double n = std::ceil((limit - start) / step);
         if (n > 1024 * 1024) c.fail("more than 1048576 numbers");
         json out = json::array();
         for (std::int64_t i = 0; i < static_cast<std::int64_t>(n); ++i)
           out.push_back(normalize_number(start + static_cast<double>(i) * step));
         return out; }}},
      {"reverse", {1, 1, [](const Call& c) -> json {
         json out = c.list(0);
         std::reverse(out.begin(), out.end());
         return out; }}},
      {"setunion", {1, -1, [](const Call& c) -> json {
         json out = json::array();
         Distinct seen;
         for (std::size_t i = 0; i < c.args.size(); ++i)
           for (const auto& v : c.list(i))
             if (seen.first(v)) out.push_back(v);
         std::sort(out.begin(), out.end(), value_less);
         return out; }}},
      {"slice", {3, 3, [](const Call& c) -> json {
         const json& l = c.list(0);
         std::int64_t from = c.integer(1), to = c.integer(2);
         if (from < 0 || to > static_cast<std::int64_t>(l.size()) || from > to)
           c.fail("indexes " + std::to_string(from) + " to " + std::to_string(to) +
                  " are out of range for a list of " + std::to_string(l.size()));
         return json(l.begin() + from, l.begin() + to); }}},
      {"sort", {1, 1, [](const Call& c) -> json {
         json out = json::array();
         for (const auto& v : c.list(0)) out.push_back(as_string(v, c.at, "sort() element"));
         std::sort(out.begin(), out.end());
         return out; }}},
      {"sum", {1, 1, [](const Call& c) -> json {
         double total = 0;
         for (const auto& v : c.list(0)) total += as_double(v, c.at, "sum() element");
         return normalize_number(total); }}},
      {"values", {1, 1, [](const Call& c) -> json {
         json out = json::array();
         for (const auto& [k, v] : c.map(0).items()) out.push_back(v);
         return out; }}},
      {"zipmap", {2, 2, [](const Call& c) -> json {
         const json& k = c.list(0);
         const json& v = c.list(1);
         if (k.size() != v.size()) c.fail("the two lists differ in length");
         json out = json::object();
         for (std::size_t i = 0; i < k.size(); ++i) out[as_string(k[i], c.at, "zipmap() key")] = v[i];
         return out; }}},

      // numbers
      {"abs", {1, 1, [](const Call& c) -> json { return normalize_number(std::fabs(c.number(0))); }}},
      {"ceil", {1, 1, [](const Call& c) -> json { return normalize_number(std::ceil(c.number(0))); }}},
      {"floor", {1, 1, [](const Call& c) -> json { return normalize_number(std::floor(c.number(0))); }}},
      {"log", {2, 2, [](const Call& c) -> json {
         return normalize_number(std::log(c.number(0)) / std::log(c.number(1))); }}},
      {"max", {1, -1, [](const Call& c) -> json {
         double m = c.number(0);
         for (std::size_t i = 1; i < c.args.size(); ++i) m = std::max(m, c.number(i));
         return normalize_number(m); }}},
      {"min", {1, -1, [](const Call& c) -> json {
         double m = c.number(0);
         for (std::size_t i = 1; i < c.args.size(); ++i) m = std::min(m, c.number(i));
         return normalize_number(m); }}},
      {"parseint", {2, 2, [](const Call& c) -> json {
         std::string s = c.str(0);
         std::int64_t base = c.integer(1);
         if (base < 2 || base > 62) c.fail("the base must be between 2 and 62");
         errno = 0;
         char* end = nullptr;
         long long v = std::strtoll(s.c_str(), &end, static_cast<int>(base));
         if (s.empty() || *end != '\0' || errno == ERANGE)
           c.fail("\"" + s + "\" is not a base-" + std::to_string(base) + " integer");
         return static_cast<std::int64_t>(v); }}},
      {"pow", {2, 2, [](const Call& c) -> json { return normalize_number(std::pow(c.number(0), c.number(1))); }}},
      {"signum", {1, 1, [](const Call& c) -> json {
         double d = c.number(0);
         return static_cast<std::int64_t>((d > 0) - (d < 0)); }}},

      // types
      {"tobool", {1, 1, [](const Call& c) -> json {
         if (c.args[0].is_null()) return nullptr;
         return as_bool(c.args[0], c.at, "tobool()"); }}},
      {"tolist", {1, 1, [](const Call& c) -> json { return c.list(0); }}},
      {"tomap", {1, 1, [](const Call& c) -> json { return c.map(0); }}},
      {"tonumber", {1, 1, [](const Call& c) -> json {
         if (c.args[0].is_null()) return nullptr;
         return as_number(c.args[0], c.at, "tonumber()"); }}},
      {"toset", {1, 1, [](const Call& c) -> json {
         json out = json::array();
         Distinct seen;
         for (const auto& v : c.list(0))
           if (seen.first(v)) out.push_back(v);
         std::sort(out.begin(), out.end(), value_less);
         return out; }}},
      {"tostring", {1, 1, [](const Call& c) -> json {
         if (c.args[0].is_null()) return nullptr;
         return as_string(c.args[0], c.at, "tostring()"); }}},

      // encoding and hashes
      {"base64decode", {1, 1, [](const Call& c) -> json {
         auto d = base64_decode(c.str(0));
         if (!d) c.fail("the argument is not base64");
         return *d; }}},
      {"base64encode", {1, 1, [](const Call& c) -> json { return base64_encode(c.str(0)); }}},
      {"jsondecode", {1, 1, [](const Call& c) -> json {
         std::string text = c.str(0);
         int depth = 0, deepest = 0;  // strings may hold brackets; over-counting only refuses more
         for (char ch : text) {
           if (ch == '[' || ch == '{') deepest = std::max(deepest, ++depth);
           if (ch == ']' || ch == '}') --depth;
         }
         if (deepest > 64) c.fail("the JSON is nested more than 64 levels deep");
         json v = json::parse(text, nullptr, false);
         if (v.is_discarded()) c.fail("the argument is not JSON");
         return v; }}},
      {"jsonencode", {1, 1, [](const Call& c) -> json { return c.args[0].dump(); }}},
      {"md5", {1, 1, [](const Call& c) -> json { return digest(c, EVP_md5()); }}},
      {"sha1", {1, 1, [](const Call& c) -> json { return digest(c, EVP_sha1()); }}},
      {"sha256", {1, 1, [](const Call& c) -> json { return digest(c, EVP_sha256()); }}},
      {"sha512", {1, 1, [](const Call& c) -> json { return digest(c, EVP_sha512()); }}},
      {"urlencode", {1, 1, [](const Call& c) -> json { return percent_encode(c.str(0)); }}},
      {"uuidv4", {0, 0, [](const Call&) -> json { return random_uuid(); }}},
      {"uuidv5", {2, 2, [](const Call& c) -> json { return uuid_v5(c); }}},
      {"yamldecode", {1, 1, [](const Call& c) -> json {
         std::string error;
         try {
           auto v = detail::yaml_to_json(YAML::Load(c.str(0)), &error);
           if (!v) c.fail(error);
           return *v;
         } catch (const YAML::Exception& e) {
           c.fail("the argument is not YAML: " + std::string(e.what()));
         } }}},
      {"csvdecode", {1, 1, [](const Call& c) -> json { return csv_decode(c); }}},
      {"yamlencode", {1, 1, [](const Call& c) -> json {
         YAML::Emitter out;
         out << to_yaml(c.args[0]);
         return std::string(out.c_str()) + "\n"; }}},

      // files (relative to the job file's folder)
      {"abspath", {1, 1, [](const Call& c) -> json {
         return std::filesystem::absolute(resolve(c, c.str(0))).lexically_normal().string(); }}},
      {"basename", {1, 1, [](const Call& c) -> json {
         std::string s = c.str(0);
         while (s.size() > 1 && s.back() == '/') s.pop_back();
         auto slash = s.rfind('/');
         return slash == std::string::npos || s == "/" ? s : s.substr(slash + 1); }}},
      {"dirname", {1, 1, [](const Call& c) -> json {
         std::string s = c.str(0);
         while (s.size() > 1 && s.back() == '/') s.pop_back();
         auto slash = s.rfind('/');
         if (slash == std::string::npos) return ".";
         return slash == 0 ? "/" : s.substr(0, slash); }}},
      {"file", {1, 1, [](const Call& c) -> json { return read_file(c, c.str(0)); }}},
      // "~" or "~/x" with the home dir; any other path as it is (Go's homedir.Expand).
      {"pathexpand", {1, 1, [](const Call& c) -> json {
         const std::string s = c.str(0);
         if (s != "~" && !s.starts_with("~/")) return s;
         std::string out = resolve(c, s).string();
         if (out.size() > 1 && out.back() == '/') out.pop_back();
         return out; }}},
      {"fileexists", {1, 1, [](const Call& c) -> json {
         std::error_code ec;
         auto p = resolve(c, c.str(0));
         if (std::filesystem::is_directory(p, ec)) c.fail("\"" + c.str(0) + "\" is a directory");
         return std::filesystem::is_regular_file(p, ec); }}},
      {"templatefile", {2, 2, [](const Call& c) -> json {
         std::string path = c.str(0);
         std::string text = read_file(c, path);
         const json& vars = c.map(1);
         auto tree = parse_template(text);
         if (!tree) c.fail("\"" + path + "\": " + tree.message());
         try {
           return c.ev.render_file_template(**tree, vars, c.at);
         } catch (const EvalError& e) {
           if (e.pos.line == c.at.line && e.pos.column == c.at.column) throw;
           c.fail("\"" + path + "\": " + describe(e));
         } }}},
  };
  return t;
}

json call_function(Evaluator& ev, const std::string& name, std::vector<json>& args, Pos at) {
  const auto& t = table();
  auto it = t.find(name);
  if (it == t.end()) {
    std::vector<std::string_view> known;
    for (const auto& [k, f] : t) known.push_back(k);
    throw EvalError{at, "unknown function " + name + "()" + detail::did_you_mean(name, known)};
  }
  const Function& f = it->second;
  const int n = static_cast<int>(args.size());
  if (n < f.min_args || (f.max_args >= 0 && n > f.max_args)) {
    std::string want = f.max_args == f.min_args ? std::to_string(f.min_args)
                       : f.max_args < 0
                           ? "at least " + std::to_string(f.min_args)
                           : std::to_string(f.min_args) + " to " + std::to_string(f.max_args);
    throw EvalError{at, name + "() takes " + want + " argument" + (want == "1" ? "" : "s") +
                            ", got " + std::to_string(n)};
  }
  return f.fn(Call{ev, args, at, it->first});
}

std::vector<std::string_view> function_names() {
  std::vector<std::string_view> names;
  for (const auto& [k, f] : table()) names.push_back(k);
  return names;
}

}  // namespace drover::jobspec::hcl
