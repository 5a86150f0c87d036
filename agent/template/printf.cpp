// Go's fmt verbs over template values (printf.hpp).
#include "template/printf.hpp"

#include <cstdio>
#include <cstring>

#include "drover/sdk/utf8.hpp"
#include "template/lexer.hpp"
#include "template/value.hpp"

namespace drover::tmpl {

using nlohmann::json;

const char* shared_escape(unsigned char c) {
  switch (c) {
    case '\\':
      return "\\\\";
    case '"':
      return "\\\"";
    case '\n':
      return "\\n";
    case '\r':
      return "\\r";
    case '\t':
      return "\\t";
    default:
      return nullptr;
  }
}

std::string go_quote(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (const char* e = shared_escape(c)) {
      out += e;
      continue;
    }
    switch (c) {
      case '\a':
        out += "\\a";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\v':
        out += "\\v";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char b[8];
          std::snprintf(b, sizeof b, "\\x%02x", c);
          out += b;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

std::string go_sprint(const std::vector<json>& args) {
  std::string out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (i > 0 && !args[i].is_string() && !args[i - 1].is_string()) out += ' ';
    out += format_value(args[i]);
  }
  return out;
}

std::string go_sprintln(const std::vector<json>& args) {
  std::string out;
  for (std::size_t i = 0; i < args.size(); ++i) {
    if (i > 0) out += ' ';
    out += format_value(args[i]);
  }
  return out + "\n";
}

namespace {

struct Spec {
  bool minus = false, plus = false, sharp = false, space = false, zero = false;
  int width = -1, prec = -1;
  char verb = 'v';
};

std::string bad_verb(char verb, const json& v) {
  if (v.is_null() || v.is_discarded()) return std::string("%!") + verb + "(<nil>)";
  return std::string("%!") + verb + "(" + go_type(v) + "=" + format_value(v) + ")";
}

std::string pad(std::string s, const Spec& sp, bool numeric) {
  if (sp.width < 0 || static_cast<int>(s.size()) >= sp.width) return s;
  std::size_t n = static_cast<std::size_t>(sp.width) - s.size();
  if (sp.minus) return s + std::string(n, ' ');
  if (sp.zero && numeric) {
    std::size_t at = (!s.empty() && (s[0] == '-' || s[0] == '+' || s[0] == ' ')) ? 1 : 0;
    return s.insert(at, n, '0');
  }
  return std::string(n, ' ') + s;
}

// A C format for one number: flags, width and precision as given, then `conv`.
std::string c_format(const Spec& sp, const char* length, char conv) {
  std::string f = "%";
  if (sp.minus) f += '-';
  if (sp.plus) f += '+';
  if (sp.sharp) f += '#';
  if (sp.space) f += ' ';
  if (sp.zero && !sp.minus) f += '0';
  if (sp.width >= 0) f += std::to_string(sp.width);
  if (sp.prec >= 0) f += "." + std::to_string(sp.prec);
  return f + length + conv;
}

template <typename T>
std::string c_print(const std::string& fmt, T v) {
  char buf[512];
  int n = std::snprintf(buf, sizeof buf, fmt.c_str(), v);
  if (n < 0) return {};
  if (static_cast<std::size_t>(n) < sizeof buf)
    return std::string(buf, static_cast<std::size_t>(n));
  std::string big(static_cast<std::size_t>(n) + 1, '\0');
  std::snprintf(big.data(), big.size(), fmt.c_str(), v);
  big.pop_back();
  return big;
}

std::string hex_bytes(const std::string& s, bool upper) {
  static const char* lo = "0123456789abcdef";
  static const char* up = "0123456789ABCDEF";
  const char* d = upper ? up : lo;
  std::string out;
  for (unsigned char c : s) {
    out += d[c >> 4];
    out += d[c & 15];
  }
  return out;
}

std::string format_one(const Spec& sp, const json& v) {
  const char verb = sp.verb;
  switch (verb) {
    case 'v': {
      if (v.is_number_float() && sp.prec < 0) return pad(format_float(v.get<double>()), sp, true);
      if (v.is_number_integer() && (sp.plus || sp.zero))
        return c_print(c_format(sp, "ll", 'd'), static_cast<long long>(v.get<int64_t>()));
      return pad(format_value(v), sp, false);
    }
    case 's': {
      if (v.is_string() || v.is_array() || v.is_object()) {
        std::string s = format_value(v);
        if (sp.prec >= 0 && static_cast<std::size_t>(sp.prec) < s.size())
          s.resize(static_cast<std::size_t>(sp.prec));
        return pad(s, sp, false);
      }
      return bad_verb(verb, v);
    }
    case 'q': {
      if (v.is_string()) return pad(go_quote(v.get<std::string>()), sp, false);
      int64_t i = 0;
      if (v.is_number_integer() && to_int(v, i)) {
        std::string ch;
        sdk::append_utf8(ch, static_cast<unsigned>(i));
        return pad("'" + ch + "'", sp, false);
      }
      return bad_verb(verb, v);
    }
    case 't':
      if (v.is_boolean()) return pad(v.get<bool>() ? "true" : "false", sp, false);
      return bad_verb(verb, v);
    case 'd':
    case 'o':
    case 'b':
    case 'c':
    case 'x':
    case 'X': {
      if (v.is_number_integer() || v.is_number_unsigned()) {
        if (verb == 'c') {
          std::string ch;
          sdk::append_utf8(ch, static_cast<unsigned>(v.get<int64_t>()));
          return pad(ch, sp, false);
        }
        if (verb == 'b') {
          uint64_t u = v.is_number_unsigned() ? v.get<uint64_t>()
                                              : static_cast<uint64_t>(std::llabs(v.get<int64_t>()));
          std::string bits;
          do {
            bits.insert(bits.begin(), static_cast<char>('0' + (u & 1)));
            u >>= 1;
          } while (u);
          if (v.is_number_integer() && v.get<int64_t>() < 0) bits = "-" + bits;
          return pad(bits, sp, true);
        }
        if (v.is_number_unsigned())
          return c_print(c_format(sp, "ll", verb == 'd' ? 'u' : verb),
                         static_cast<unsigned long long>(v.get<uint64_t>()));
        long long i = v.get<int64_t>();
        if (verb == 'd') return c_print(c_format(sp, "ll", 'd'), i);
        // Go prints a negative number in hex or octal with a sign, not as two's complement.
        std::string s = c_print(
            c_format(Spec{sp.minus, false, sp.sharp, false, false, -1, sp.prec}, "ll", verb),
            static_cast<unsigned long long>(i < 0 ? -i : i));
        if (i < 0)
          s = "-" + s;
        else if (sp.plus)
          s = "+" + s;
        return pad(s, sp, true);
      }
      if ((verb == 'x' || verb == 'X') && v.is_string()) {
        std::string s = v.get<std::string>();
        if (sp.prec >= 0 && static_cast<std::size_t>(sp.prec) < s.size())
          s.resize(static_cast<std::size_t>(sp.prec));
        return pad(hex_bytes(s, verb == 'X'), sp, false);
      }
      return bad_verb(verb, v);
    }
    case 'e':
    case 'E':
    case 'f':
    case 'F':
    case 'g':
    case 'G': {
      if (!v.is_number_float()) return bad_verb(verb, v);
      double d = v.get<double>();
      if ((verb == 'g' || verb == 'G') && sp.prec < 0) {
        std::string s = format_float(d);
        if (sp.plus && d >= 0) s = "+" + s;
        return pad(s, sp, true);
      }
      return c_print(c_format(sp, "", verb), d);
    }
    default:
      return std::string("%!") + verb + "(" + go_type(v) + "=" + format_value(v) + ")";
  }
}

}  // namespace

std::string go_sprintf(const std::string& f, const std::vector<json>& args) {
  std::string out;
  std::size_t next = 0;
  for (std::size_t i = 0; i < f.size(); ++i) {
    if (f[i] != '%') {
      out += f[i];
      continue;
    }
    if (++i >= f.size()) {
      out += "%!(NOVERB)";
      break;
    }
    Spec sp;
    for (; i < f.size(); ++i) {
      char c = f[i];
      if (c == '-')
        sp.minus = true;
      else if (c == '+')
        sp.plus = true;
      else if (c == '#')
        sp.sharp = true;
      else if (c == ' ')
        sp.space = true;
      else if (c == '0')
        sp.zero = true;
      else
        break;
    }
    auto read_num = [&](int& into) {
      if (i < f.size() && f[i] == '*') {
        ++i;
        int64_t w = 0;
        if (next < args.size() && to_int(args[next], w)) into = static_cast<int>(w);
        ++next;
        return;
      }
      if (i < f.size() && std::isdigit(static_cast<unsigned char>(f[i]))) {
        into = 0;
        while (i < f.size() && std::isdigit(static_cast<unsigned char>(f[i])))
          into = into * 10 + (f[i++] - '0');
      }
    };
    read_num(sp.width);
    if (sp.width < 0 && sp.width != -1) {
      sp.minus = true;
      sp.width = -sp.width;
    }
    if (i < f.size() && f[i] == '.') {
      ++i;
      sp.prec = 0;
      read_num(sp.prec);
    }
    if (i >= f.size()) {
      out += "%!(NOVERB)";
      break;
    }
    sp.verb = f[i];
    if (sp.verb == '%') {
      out += '%';
      continue;
    }
    if (next >= args.size()) {
      out += std::string("%!") + sp.verb + "(MISSING)";
      continue;
    }
    out += format_one(sp, args[next++]);
  }
  if (next < args.size()) {
    out += "%!(EXTRA ";
    for (std::size_t k = next; k < args.size(); ++k) {
      if (k > next) out += ", ";
      out += go_type(args[k]) + "=" + format_value(args[k]);
    }
    out += ")";
  }
  return out;
}

}  // namespace drover::tmpl
