// Reading an artifact's source, options and destination the way go-getter does, without any
// I/O (source.hpp).
#include "artifact/source.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <set>
#include <vector>

#include "drover/common/relative_path.hpp"

namespace drover::artifact {

namespace {

Error invalid(std::string message) { return make_error(std::move(message), Errc::Invalid); }


std::string lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// %XX and '+' in a query value, as go-getter's url.ParseQuery reads them.
std::string url_decode(std::string_view in) {
  std::string out;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] == '%' && i + 2 < in.size() && hex_value(in[i + 1]) >= 0 &&
        hex_value(in[i + 2]) >= 0) {
      out += static_cast<char>(hex_value(in[i + 1]) * 16 + hex_value(in[i + 2]));
      i += 2;
    } else {
      out += in[i] == '+' ? ' ' : in[i];
    }
  }
  return out;
}

// The schemes go-getter knows and drover does not fetch, with why.
std::optional<std::string> refused_getter(const std::string& name) {
  if (name == "s3" || name == "gcs" || name == "gs" || name == "hg")
    return "source: the " + std::string(name == "gs" ? "gcs" : name) +
           " getter is not supported by drover (it fetches http, https, file and git sources)";
  return std::nullopt;
}

const std::set<std::string>& known_options() {
  static const std::set<std::string> k = {"checksum", "archive", "filename",
                                          "ref",      "depth",   "sshkey"};
  return k;
}

bool is_git_option(const std::string& k) { return k == "ref" || k == "depth" || k == "sshkey"; }

std::optional<ArchiveKind> archive_option(const std::string& v, bool& compressed_tar) {
  static const std::map<std::string, std::pair<ArchiveKind, bool>> kinds = {
      {"tar", {ArchiveKind::Tar, false}}, {"tar.gz", {ArchiveKind::Tar, true}},
      {"tgz", {ArchiveKind::Tar, true}},  {"tar.bz2", {ArchiveKind::Tar, true}},
      {"tbz2", {ArchiveKind::Tar, true}}, {"tar.xz", {ArchiveKind::Tar, true}},
      {"txz", {ArchiveKind::Tar, true}},  {"zip", {ArchiveKind::Zip, false}},
      {"gz", {ArchiveKind::Gzip, false}}, {"bz2", {ArchiveKind::Bzip2, false}},
      {"xz", {ArchiveKind::Xz, false}},
  };
  auto it = kinds.find(lower(v));
  if (it == kinds.end()) return std::nullopt;
  compressed_tar = it->second.second;
  return it->second.first;
}

}  // namespace

Result<Checksum> parse_checksum(const std::string& text) {
  auto colon = text.find(':');
  if (colon == std::string::npos)
    return invalid("\"" + text + "\" is not \"type:hex\" (such as \"sha256:<64 hex digits>\")");
  Checksum c{lower(text.substr(0, colon)), lower(text.substr(colon + 1))};
  static const std::map<std::string, std::size_t> lengths = {
      {"md5", 32}, {"sha1", 40}, {"sha256", 64}, {"sha512", 128}};
  auto it = lengths.find(c.algo);
  if (it == lengths.end()) {
    if (c.algo == "file")
      return invalid("a checksum file (\"file:<url>\") is not supported; give the digest");
    return invalid("unknown checksum type \"" + c.algo + "\" (use md5, sha1, sha256 or sha512)");
  }
  if (c.hex.size() != it->second ||
      !std::all_of(c.hex.begin(), c.hex.end(), [](char ch) { return hex_value(ch) >= 0; }))
    return invalid("a " + c.algo + " checksum is " + std::to_string(it->second) +
                   " hex digits, got \"" + c.hex + "\"");
  return c;
}

ArchiveKind archive_kind_of(const std::string& filename, bool* compressed_tar) {
  const std::string f = lower(filename);
  auto ends = [&](std::string_view s) {
    return f.size() > s.size() && f.compare(f.size() - s.size(), s.size(), s) == 0;
  };
  bool tarball = false;
  ArchiveKind k = ArchiveKind::None;
  for (std::string_view s : {".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz"})
    if (ends(s)) tarball = true;
  if (tarball)
    k = ArchiveKind::Tar;
  else if (ends(".tar"))
    k = ArchiveKind::Tar;
  else if (ends(".zip"))
    k = ArchiveKind::Zip;
  else if (ends(".gz"))
    k = ArchiveKind::Gzip;
  else if (ends(".bz2"))
    k = ArchiveKind::Bzip2;
  else if (ends(".xz"))
    k = ArchiveKind::Xz;
  if (compressed_tar) *compressed_tar = tarball;
  return k;
}

Result<Source> parse_source(const std::string& source,
                            const std::map<std::string, std::string>& options) {
  if (source.empty()) return invalid("source: must not be empty");
  for (unsigned char ch : source)
    if (ch < 0x20 || ch == 0x7f) return invalid("source: must not hold control characters");
  Source s;
  std::string rest = source;
  std::string forced;
  // go-getter's forced getter: "git::https://...".
  if (auto sep = source.find("::"); sep != std::string::npos && sep > 0 &&
                                    std::all_of(source.begin(), source.begin() + sep, [](char ch) {
                                      return std::isalnum(static_cast<unsigned char>(ch));
                                    })) {
    forced = lower(source.substr(0, sep));
    rest = source.substr(sep + 2);
    if (auto why = refused_getter(forced)) return invalid(*why);
    if (forced != "git" && forced != "http" && forced != "https" && forced != "file")
      return invalid("source: unknown getter \"" + forced + "::\" (drover fetches http, https, " +
                     "file and git sources)");
  }
  std::string scheme;
  if (auto p = rest.find("://"); p != std::string::npos && p > 0) scheme = lower(rest.substr(0, p));
  // go-getter's detectors for sources without a scheme.
  if (scheme.empty() && forced.empty()) {
    auto host_is = [&](std::string_view suffix) {
      auto slash = rest.find('/');
      std::string host = lower(rest.substr(0, slash));
      return host.size() >= suffix.size() &&
             host.compare(host.size() - suffix.size(), suffix.size(), suffix) == 0;
    };
    if (rest.starts_with("github.com/") || rest.starts_with("gitlab.com/")) {
      forced = "git";
      rest = "https://" + rest;
      scheme = "https";
    } else if (rest.starts_with("git@")) {
      forced = "git";
    } else if (host_is("amazonaws.com")) {
      return invalid(*refused_getter("s3"));
    } else if (rest.starts_with("www.googleapis.com/storage") ||
               rest.starts_with("storage.googleapis.com/")) {
      return invalid(*refused_getter("gcs"));
    } else if (!rest.starts_with("/")) {
      return invalid("source: \"" + source +
                     "\" names no scheme (use http://, https://, file:// or git::)");
    }
  }
  if (!scheme.empty() && forced.empty()) {
    if (auto why = refused_getter(scheme)) return invalid(*why);
    if (scheme != "http" && scheme != "https" && scheme != "file" && scheme != "git")
      return invalid("source: unsupported scheme \"" + scheme +
                     "://\" (drover fetches http, https, file and git sources)");
  }
  const std::string getter = !forced.empty() ? forced : scheme.empty() ? "file" : scheme;
  s.getter = getter == "git" ? Getter::Git : getter == "file" ? Getter::File : Getter::Http;
  if (s.getter == Getter::Http && scheme != "http" && scheme != "https")
    return invalid("source: an http source needs an http:// or https:// URL");
  if (s.getter == Getter::File && !scheme.empty() && scheme != "file")
    return invalid("source: a file source is file:///absolute/path or /absolute/path");

  // go-getter's own arguments out of the query; the rest of it stays in the URL.
  std::map<std::string, std::string> args;
  std::string query_kept;
  if (auto q = rest.find('?'); q != std::string::npos) {
    std::string query = rest.substr(q + 1);
    rest.resize(q);
    std::size_t at = 0;
    while (at <= query.size()) {
      auto amp = query.find('&', at);
      if (amp == std::string::npos) amp = query.size();
      std::string pair = query.substr(at, amp - at);
      at = amp + 1;
      if (pair.empty()) continue;
      auto eq = pair.find('=');
      std::string key = url_decode(pair.substr(0, eq));
      std::string value = eq == std::string::npos ? "" : url_decode(pair.substr(eq + 1));
      bool ours = key == "checksum" || key == "archive" || key == "filename" ||
                  (s.getter == Getter::Git && is_git_option(key));
      if (ours)
        args[key] = value;
      else
        query_kept += (query_kept.empty() ? "" : "&") + pair;
    }
  }
  // `//subdir`, after the scheme's own slashes.
  std::size_t path_from = 0;
  if (auto p = rest.find("://"); p != std::string::npos) path_from = p + 3;
  if (auto dd = rest.find("//", path_from + 1);
      dd != std::string::npos && path_from < rest.size()) {
    if (s.getter != Getter::Git)
      return invalid("source: a //subdir is supported for git sources only");
    s.subdir = rest.substr(dd + 2);
    rest.resize(dd);
    for (std::size_t a = 0; a <= s.subdir.size();) {
      auto b = s.subdir.find('/', a);
      if (b == std::string::npos) b = s.subdir.size();
      if (s.subdir.compare(a, b - a, "..") == 0)
        return invalid("source: the //subdir must stay inside the repository");
      a = b + 1;
    }
    if (s.subdir.empty() || s.subdir[0] == '/')
      return invalid("source: the //subdir must be a relative path");
  }
  for (const auto& [k, v] : options) {
    if (!known_options().count(k))
      return invalid("options." + k +
                     ": unknown option (drover knows checksum, archive, filename, ref, depth, "
                     "sshkey)");
    args[k] = v;
  }
  for (const auto& [k, v] : args)
    if (is_git_option(k) && s.getter != Getter::Git)
      return invalid("options." + k + ": only a git source takes " + k);

  if (s.getter == Getter::File) {
    s.url = scheme == "file" ? rest.substr(7) : rest;
    if (s.url.empty() || s.url[0] != '/')
      return invalid("source: a file source needs an absolute path (file:///dir/file)");
  } else if (s.getter == Getter::Git) {
    s.url = rest + (query_kept.empty() ? "" : "?" + query_kept);
    if (s.url.empty() || s.url[0] == '-')
      return invalid("source: a git URL must not be empty or start with '-'");
    if (lower(s.url).starts_with("ext::") || lower(s.url).starts_with("fd::"))
      return invalid("source: git's ext:: and fd:: transports run commands; refused");
  } else {
    s.url = rest + (query_kept.empty() ? "" : "?" + query_kept);
  }
  // The file name: the last segment of the URL's path (go-getter's filepath.Base(u.Path)).
  {
    std::string path = rest.substr(path_from);
    if (s.getter == Getter::Http) {
      auto slash = path.find('/');
      path = slash == std::string::npos ? "" : path.substr(slash);
    }
    auto last = path.rfind('/');
    s.filename = url_decode(last == std::string::npos ? path : path.substr(last + 1));
  }
  if (auto it = args.find("filename"); it != args.end()) {
    const std::string& f = it->second;
    if (f.empty() || f == "." || f == ".." || f.find('/') != std::string::npos ||
        f.find('\0') != std::string::npos)
      return invalid("options.filename: must be a plain file name");
    s.filename = f;
  }

  if (auto it = args.find("checksum"); it != args.end()) {
    if (s.getter == Getter::Git)
      return invalid("options.checksum: a git source is a tree, not one file; pin it with ref");
    auto c = parse_checksum(it->second);
    if (!c) return invalid("options.checksum: " + c.message());
    s.checksum = *c;
  }
  if (s.getter != Getter::Git) s.archive = archive_kind_of(s.filename, &s.compressed_tar);
  if (auto it = args.find("archive"); it != args.end()) {
    if (s.getter == Getter::Git) return invalid("options.archive: a git source is not unpacked");
    const std::string v = lower(it->second);
    if (v == "false") {
      s.archive = ArchiveKind::None;
    } else if (v != "true" && !v.empty()) {
      auto k = archive_option(v, s.compressed_tar);
      if (!k)
        return invalid("options.archive: \"" + it->second +
                       "\" is not false or an archive type (tar, tar.gz, tgz, tar.bz2, tar.xz, "
                       "zip, gz, bz2, xz)");
      s.archive = *k;
    }
  }
  if (auto it = args.find("ref"); it != args.end()) {
    const std::string& r = it->second;
    if (r.empty() || r[0] == '-' || r.size() > 256 ||
        std::any_of(r.begin(), r.end(), [](unsigned char ch) { return ch <= 0x20 || ch == 0x7f; }))
      return invalid("options.ref: \"" + r + "\" is not a branch, tag or commit");
    s.ref = r;
  }
  if (auto it = args.find("depth"); it != args.end()) {
    const std::string& d = it->second;
    int n = 0;
    auto [end, ec] = std::from_chars(d.data(), d.data() + d.size(), n);
    if (d.empty() || ec != std::errc() || end != d.data() + d.size() || n < 1)
      return invalid("options.depth: must be a positive whole number, got \"" + d + "\"");
    s.depth = n;
  }
  if (auto it = args.find("sshkey"); it != args.end()) {
    if (it->second.empty()) return invalid("options.sshkey: must not be empty");
    s.sshkey = it->second;
  }
  return s;
}

Status check_mode(const std::string& mode) {
  if (mode.empty() || mode == "any" || mode == "file" || mode == "dir") return {};
  return invalid("mode: \"" + mode + "\" is not any, file or dir");
}

Result<std::string> normalize_destination(const std::string& destination) {
  if (destination.empty()) return std::string("local");
  if (destination.find('\0') != std::string::npos)
    return invalid("destination: must not hold a NUL byte");
  if (destination[0] == '/')
    return invalid("destination: \"" + destination +
                   "\" is absolute; it is relative to the task dir (such as \"local/app\")");
  auto beneath = lexically_beneath(destination);
  if (!beneath) return invalid("destination: \"" + destination + "\" escapes the task dir");
  return beneath->empty() ? std::string(".") : *beneath;
}

Status check_header(const std::string& name, const std::string& value) {
  static const std::string_view separators = "()<>@,;:\\\"/[]?={} \t";
  if (name.empty() || std::any_of(name.begin(), name.end(), [](unsigned char ch) {
        return ch <= 0x20 || ch >= 0x7f ||
               separators.find(static_cast<char>(ch)) != std::string_view::npos;
      }))
    return invalid("\"" + name + "\" is not an HTTP header name");
  if (value.find_first_of(std::string("\r\n\0", 3)) != std::string::npos)
    return invalid("the value of header \"" + name + "\" holds CR, LF or NUL");
  return {};
}

}  // namespace drover::artifact
