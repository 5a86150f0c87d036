// Image handling for the docker driver (see images.hpp).
#include "images.hpp"

#include <openssl/evp.h>

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <sstream>
#include <stdexcept>

#include "pull_progress.hpp"

namespace drover::docker {
namespace {

// dockerd decodes X-Registry-Auth as base64url; in the standard alphabet, a '+' or '/' makes
// it fail to decode and it then pulls with no credentials at all, without a word. OpenSSL
// encodes; the alphabet is swapped after.
std::string base64url_encode(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3), '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(in.data()), static_cast<int>(in.size()));
  out.resize(n < 0 ? 0 : static_cast<std::size_t>(n));
  for (auto& c : out) c = c == '+' ? '-' : c == '/' ? '_' : c;
  return out;
}


// Reads a file inside the task dir, refusing one that resolves outside it.
std::string read_inside(const std::string& task_dir, const std::string& rel) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path root = fs::canonical(task_dir, ec);
  if (ec) throw std::runtime_error("config.load: task dir " + task_dir + ": " + ec.message());
  fs::path p = fs::canonical(root / rel, ec);
  if (ec) throw std::runtime_error("config.load: " + rel + ": " + ec.message());
  auto r = p.lexically_relative(root);
  if (r.empty() || *r.begin() == "..") {
    throw std::runtime_error("config.load: " + rel + " resolves outside the task dir");
  }
  int fd = ::open(p.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) throw std::runtime_error("config.load: cannot open " + p.string());
  std::string data;
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0) data.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return data;
}

// A pull answers 200 and then reports failure inside its JSON progress stream.
std::string stream_error(const std::string& body) {
  std::istringstream in(body);
  std::string line;
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (j.is_object() && j.contains("error")) {
      return j["error"].is_string() ? j["error"].get<std::string>() : j["error"].dump();
    }
  }
  return {};
}

}  // namespace

std::string url_encode(const std::string& s) {
  std::string out;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      char b[4];
      std::snprintf(b, sizeof b, "%%%02X", c);
      out += b;
    }
  }
  return out;
}

void ensure_image(const DockerClient& client, const TaskConfig& cfg, const std::string& task_dir,
                  std::chrono::milliseconds pull_timeout,
                  std::chrono::milliseconds progress_interval, const PullEventFn& on_event) {
  if (!cfg.load.empty()) {
    std::string tar = read_inside(task_dir, cfg.load);
    Response r =
        client.post_raw("/images/load?quiet=1", std::move(tar), "application/x-tar", pull_timeout);
    std::string err = r.ok() ? stream_error(r.body) : r.message();
    if (!err.empty()) throw std::runtime_error("loading image tarball " + cfg.load + ": " + err);
  }
  if (!cfg.force_pull) {
    Response r = client.get("/images/" + cfg.image + "/json", std::chrono::seconds(10));
    if (r.ok()) return;
    if (r.status != 404)
      throw std::runtime_error("inspecting image " + cfg.image + ": " + r.message());
    if (!cfg.load.empty()) {
      throw std::runtime_error("image " + cfg.image + " is not in the tarball " + cfg.load);
    }
  }
  // Split "repo[:tag]" (a ':' after the last '/' is a tag; one before it is a registry port).
  std::string repo = cfg.image, tag = "latest";
  auto at = repo.find('@');
  auto colon = repo.rfind(':');
  auto slash = repo.rfind('/');
  if (at == std::string::npos && colon != std::string::npos &&
      (slash == std::string::npos || colon > slash)) {
    tag = repo.substr(colon + 1);
    repo = repo.substr(0, colon);
  }
  std::vector<std::pair<std::string, std::string>> headers;
  if (cfg.auth.is_object() && !cfg.auth.empty()) {
    nlohmann::json a = {{"username", cfg.auth.value("username", "")},
                        {"password", cfg.auth.value("password", "")},
                        {"email", cfg.auth.value("email", "")},
                        {"serveraddress", cfg.auth.value("server_address", "")}};
    headers.emplace_back("X-Registry-Auth", base64url_encode(a.dump()));
  }
  std::string path = "/images/create?fromImage=" + url_encode(repo);
  if (at == std::string::npos) path += "&tag=" + url_encode(tag);
  on_event("Downloading image " + cfg.image, {{"image", cfg.image}});
  auto pull = [&](const std::vector<std::pair<std::string, std::string>>& with) {
    PullProgress progress(cfg.image, progress_interval, PullProgress::Clock::now());
    auto bytes = [&] {
      return std::map<std::string, std::string>{
          {"image", cfg.image},
          {"downloaded_bytes", std::to_string(progress.downloaded_bytes())},
          {"total_bytes", std::to_string(progress.total_bytes())}};
    };
    Response r = client.post_stream(
        path, with,
        [&](const char* data, size_t len) {
          progress.feed(data, len);
          if (auto msg = progress.report_due(PullProgress::Clock::now())) on_event(*msg, bytes());
          return true;
        },
        pull_timeout);
    std::string err = !r.ok()            ? r.message()
                      : !r.error.empty() ? "pull stream broke: " + r.error
                                         : progress.error();
    if (err.empty()) on_event(progress.done_message(), bytes());
    return err;
  };
  std::string err = pull(headers);
  // auth_soft_fail (Nomad's): credentials that do not work are dropped, and a public image
  // still comes.
  if (!err.empty() && !headers.empty() && cfg.auth_soft_fail) {
    on_event("Pulling image " + cfg.image + " with credentials failed (" + err +
                 "); trying again without them (auth_soft_fail)",
             {{"image", cfg.image}});
    err = pull({});
  }
  if (!err.empty()) throw std::runtime_error("pulling image " + cfg.image + ": " + err);
}

}  // namespace drover::docker
