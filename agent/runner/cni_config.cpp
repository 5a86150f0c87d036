// CNI settings and configs (cni_config.hpp), read as libcni's LoadConfList reads them.
#include "runner/cni_config.hpp"

#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "jobspec/job.hpp"

namespace drover::runner {
namespace {

namespace fs = std::filesystem;

// A config larger than this is not a network config (and is not read whole).
constexpr std::uintmax_t kMaxConfigBytes = 1 << 20;

bool is_config_file(const fs::path& p) {
  const auto ext = p.extension();
  return ext == ".conflist" || ext == ".conf" || ext == ".json";
}

// One file's list, or why it is not one.
Result<CniNetwork> read_config(const fs::path& file) {
  const std::string where = file.filename().string();
  std::error_code ec;
  const auto size = fs::file_size(file, ec);
  if (ec) return make_error(where + ": " + ec.message(), Errc::Invalid);
  if (size > kMaxConfigBytes)
    return make_error(where + ": larger than 1 MiB, not a network config", Errc::Invalid);
  std::ifstream in(file);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) return make_error(where + ": cannot be read", Errc::Invalid);
  nlohmann::json j = nlohmann::json::parse(text.str(), nullptr, false);
  if (!j.is_object()) return make_error(where + ": not a JSON object", Errc::Invalid);
  if (!j.contains("name") || !j["name"].is_string() || !jobspec::is_cni_network_name(j["name"].get<std::string>()))
    return make_error(where + ": \"name\" must be a network name (letters, digits, '_', '.', '-')",
                      Errc::Invalid);
  if (j.contains("cniVersion") && !j["cniVersion"].is_string())
    return make_error(where + ": \"cniVersion\" must be a string", Errc::Invalid);
  CniNetwork out{j["name"].get<std::string>(), file, nullptr};
  if (file.extension() == ".conflist") {
    if (!j.contains("plugins") || !j["plugins"].is_array() || j["plugins"].empty())
      return make_error(where + ": \"plugins\" must be a list of at least one plugin", Errc::Invalid);
    for (std::size_t i = 0; i < j["plugins"].size(); ++i) {
      const auto& p = j["plugins"][i];
      if (!p.is_object() || !p.contains("type") || !p["type"].is_string() ||
          p["type"].get<std::string>().empty())
        return make_error(where + ": plugins[" + std::to_string(i) + "] has no \"type\"",
                          Errc::Invalid);
    }
    out.conflist = std::move(j);
    return out;
  }
  // A single plugin's config: libcni's ConfListFromConf, a list of one.
  if (!j.contains("type") || !j["type"].is_string() || j["type"].get<std::string>().empty())
    return make_error(where + ": has no \"type\" (a .conf or .json file is one plugin's config)",
                      Errc::Invalid);
  out.conflist = {{"name", out.name}, {"plugins", nlohmann::json::array({j})}};
  if (j.contains("cniVersion")) out.conflist["cniVersion"] = j["cniVersion"];
  return out;
}

}  // namespace

std::string CniSettings::path_env() const {
  std::string out;
  for (const auto& d : plugin_dirs) out += (out.empty() ? "" : ":") + d;
  return out;
}

std::string CniSettings::find_plugin(const std::string& type) const {
  // A type is a file name, never a path (the spec's rule, and no escape from the dirs).
  if (type.empty() || type.find('/') != std::string::npos || type == "." || type == "..")
    return "";
  for (const auto& d : plugin_dirs)
    if (::access((d + "/" + type).c_str(), X_OK) == 0) return d + "/" + type;
  return "";
}

Result<std::vector<std::string>> parse_cni_path(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream in(text);
  std::string dir;
  while (std::getline(in, dir, ':')) {
    if (dir.empty()) continue;
    if (dir.front() != '/')
      return make_error("\"" + dir + "\" is not an absolute path", Errc::Invalid);
    out.push_back(dir);
  }
  if (out.empty()) return make_error("names no directory", Errc::Invalid);
  return out;
}

CniScan scan_cni_configs(const fs::path& dir) {
  CniScan out;
  std::vector<fs::path> files;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec))
    if (is_config_file(e.path()) && e.is_regular_file(ec)) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  // libcni looks among the lists first: a .conflist wins over a .conf of the same name.
  std::stable_partition(files.begin(), files.end(),
                        [](const fs::path& p) { return p.extension() == ".conflist"; });
  for (const auto& f : files) {
    auto c = read_config(f);
    if (!c.ok()) {
      out.problems.push_back(c.message());
      continue;
    }
    const bool seen = std::any_of(out.networks.begin(), out.networks.end(),
                                  [&](const CniNetwork& n) { return n.name == c->name; });
    if (!seen) out.networks.push_back(std::move(*c));
  }
  return out;
}

Result<CniNetwork> find_cni_network(const fs::path& dir, const std::string& name) {
  auto scan = scan_cni_configs(dir);
  std::string names;
  for (auto& n : scan.networks) {
    if (n.name == name) return std::move(n);
    names += (names.empty() ? "" : ", ") + n.name;
  }
  std::string why = "no CNI network \"" + name + "\" in " + dir.string() + " (cni_config_dir; ";
  why += names.empty() ? "it has none" : "it has " + names;
  if (!scan.problems.empty()) {
    why += "; unreadable: ";
    for (std::size_t i = 0; i < scan.problems.size(); ++i) why += (i ? "; " : "") + scan.problems[i];
  }
  return make_error(why + ")", Errc::NotFound);
}

}  // namespace drover::runner
