// LocalRegistry and docker_cli (see docker_registry.hpp).
#include "docker_registry.hpp"

#include "agent_process.hpp"

#include <arpa/inet.h>
#include <crypt.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <thread>

namespace drover::testing {
namespace {

constexpr const char* kRegistryBin = "/usr/bin/docker-registry";

bool answers(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  close(fd);
  return ok;
}

// The registry's htpasswd takes bcrypt only; libxcrypt makes one ("$2b$").
std::string bcrypt(const std::string& password) {
  const char* salt = crypt_gensalt("$2b$", 4, nullptr, 0);
  const char* hash = salt ? crypt(password.c_str(), salt) : nullptr;
  return hash ? hash : "";
}

}  // namespace

std::string docker_cli(const std::string& args) {
  std::string out;
  FILE* f = popen(("/usr/bin/docker " + args + " 2>/dev/null").c_str(), "r");
  if (!f) return out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, f)) > 0) out.append(buf, n);
  pclose(f);
  while (!out.empty() && out.back() == '\n') out.pop_back();
  return out;
}

std::unique_ptr<LocalRegistry> LocalRegistry::start(Options opts) {
  if (access(kRegistryBin, X_OK) != 0) {
    ADD_FAILURE() << kRegistryBin << " is missing: scripts/setup.sh installs docker-registry";
    return nullptr;
  }
  std::unique_ptr<LocalRegistry> r(new LocalRegistry());
  r->opts_ = opts;
  std::string tmpl = (std::filesystem::temp_directory_path() / "drover-registry-XXXXXX").string();
  r->dir_ = mkdtemp(tmpl.data());
  const int port = free_loopback_port();
  r->address_ = "127.0.0.1:" + std::to_string(port);
  std::ofstream cfg(r->dir_ + "/config.yml");
  cfg << "version: 0.1\nlog:\n  level: error\nstorage:\n  filesystem:\n    rootdirectory: "
      << r->dir_ << "/data\nhttp:\n  addr: " << r->address_ << "\n";
  if (!opts.user.empty()) {
    std::ofstream(r->dir_ + "/htpasswd") << opts.user << ":" << bcrypt(opts.password) << "\n";
    cfg << "auth:\n  htpasswd:\n    realm: drover-test\n    path: " << r->dir_ << "/htpasswd\n";
  }
  cfg.close();
  const std::string config = r->dir_ + "/config.yml", log = r->dir_ + "/log";
  r->pid_ = fork();
  if (r->pid_ == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlives a crashed test
    int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(fd, 1);
    dup2(fd, 2);
    execl(kRegistryBin, kRegistryBin, "serve", config.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!answers(port)) {
    if (std::chrono::steady_clock::now() > until || waitpid(r->pid_, nullptr, WNOHANG) != 0) {
      std::ifstream in(log);
      std::string text((std::istreambuf_iterator<char>(in)), {});
      ADD_FAILURE() << "docker-registry did not come up on " << r->address_ << ": " << text;
      return nullptr;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return r;
}

LocalRegistry::~LocalRegistry() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    waitpid(pid_, nullptr, 0);
  }
  std::error_code ec;
  std::filesystem::remove_all(dir_, ec);
}

std::string LocalRegistry::push_fresh_image(const std::string& tag, int bytes) {
  const std::string ref = address_ + "/drover-test/busybox:" + tag;
  const std::string src = "drover-push-src-" + std::to_string(getpid()) + "-" + tag;
  docker_cli("rm -f " + src);
  docker_cli("run --network none --name " + src + " " + kBusyboxImage + " sh -c 'head -c " +
             std::to_string(bytes) + " /dev/urandom > /blob'");
  docker_cli("commit " + src + " " + ref);
  docker_cli("rm -f " + src);
  // A client config of its own: a login here must not touch the machine's ~/.docker.
  const std::string client = "--config " + dir_ + "/client ";
  if (!opts_.user.empty()) {
    std::ofstream(dir_ + "/password") << opts_.password;
    docker_cli(client + "login -u " + opts_.user + " --password-stdin " + address_ + " <" + dir_ +
               "/password");
  }
  const std::string pushed = docker_cli(client + "push " + ref);
  docker_cli("rmi " + ref);
  if (pushed.find("digest: sha256:") == std::string::npos) {
    ADD_FAILURE() << "pushing " << ref << " failed: " << pushed;
    return "";
  }
  if (!docker_cli("image inspect -f '{{.Id}}' " + ref).empty()) {
    ADD_FAILURE() << ref << " is still in dockerd after rmi";
    return "";
  }
  return ref;
}

}  // namespace drover::testing
