// Parsing /proc/self/mountinfo (see mountinfo.hpp). Format, per proc(5):
//   ID PARENT MAJ:MIN ROOT MOUNT_POINT MOUNT_OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER_OPTIONS
#include "mountinfo.hpp"

#include <sstream>

#include "files.hpp"

namespace drover::cgroups {

namespace {

std::string unescape(const std::string& field) {
  std::string out;
  for (size_t i = 0; i < field.size(); ++i) {
    auto octal = [&](size_t k, char hi) { return field[k] >= '0' && field[k] <= hi; };
    if (field[i] == '\\' && i + 3 < field.size() && octal(i + 1, '3') && octal(i + 2, '7') &&
        octal(i + 3, '7')) {
      out.push_back(static_cast<char>((field[i + 1] - '0') * 64 + (field[i + 2] - '0') * 8 +
                                      (field[i + 3] - '0')));
      i += 3;
    } else {
      out.push_back(field[i]);
    }
  }
  return out;
}

}  // namespace

std::vector<MountEntry> parse_mountinfo(const std::string& text) {
  std::vector<MountEntry> out;
  std::istringstream lines(text);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream in(line);
    std::vector<std::string> f;
    std::string w;
    while (in >> w) f.push_back(w);
    // Six fields, optional fields up to "-", then fstype, source and super options.
    size_t dash = 6;
    while (dash < f.size() && f[dash] != "-") ++dash;
    if (dash + 3 >= f.size()) continue;
    MountEntry e;
    e.mount_point = unescape(f[4]);
    e.mount_options = f[5];
    e.fstype = f[dash + 1];
    e.super_options = f[dash + 3];
    out.push_back(std::move(e));
  }
  return out;
}

std::vector<MountEntry> read_mountinfo(const std::filesystem::path& file) {
  auto text = read_file(file);
  return text ? parse_mountinfo(*text) : std::vector<MountEntry>{};
}

std::vector<std::string> split_options(const std::string& options) {
  std::vector<std::string> out;
  std::istringstream in(options);
  std::string o;
  while (std::getline(in, o, ','))
    if (!o.empty() && o != "rw" && o != "ro") out.push_back(o);
  return out;
}

bool is_under(const std::filesystem::path& path, const std::filesystem::path& root) {
  auto p = path.lexically_normal(), r = root.lexically_normal();
  if (!r.empty() && r.filename().empty()) r = r.parent_path();  // "/sys/fs/cgroup/"
  auto ri = r.begin(), pi = p.begin();
  for (; ri != r.end(); ++ri, ++pi)
    if (pi == p.end() || *pi != *ri) return false;
  return true;
}

}  // namespace drover::cgroups
