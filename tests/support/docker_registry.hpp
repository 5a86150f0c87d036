// For the docker tests: the docker CLI, and a throwaway registry (Debian's docker-registry,
// the CNCF distribution registry) on a free loopback port with its storage in a temp dir.
// dockerd treats 127.0.0.0/8 as an insecure registry, so it pulls from it over plain HTTP.
#pragma once

#include <sys/types.h>

#include <memory>
#include <string>

namespace drover::testing {

// The image the docker fixture (tests/drivers/docker/docker_fixture.sh) builds.
inline constexpr const char* kBusyboxImage = "drover-test/busybox:latest";

// Runs /usr/bin/docker with `args` (a shell word list) and returns its stdout without the
// trailing newlines; stderr is dropped.
std::string docker_cli(const std::string& args);

class LocalRegistry {
 public:
  struct Options {
    // Both set: the registry wants them (htpasswd basic auth) for every pull and push.
    std::string user, password;
  };
  // Starts it and waits until it answers; nullptr (and a failed test saying why) otherwise.
  static std::unique_ptr<LocalRegistry> start(Options opts);
  static std::unique_ptr<LocalRegistry> start() { return start(Options{}); }
  ~LocalRegistry();  // stops it and removes its storage

  const std::string& address() const { return address_; }  // "127.0.0.1:PORT"

  // Pushes kBusyboxImage plus a fresh layer (`bytes` random bytes at /blob) as
  // address()/drover-test/busybox:TAG, then removes it from dockerd, so that a pull has to
  // download that layer. Returns the image reference; "" (and a failed test) on failure.
  std::string push_fresh_image(const std::string& tag, int bytes = 3000000);

 private:
  LocalRegistry() = default;
  pid_t pid_ = -1;
  std::string dir_, address_;
  Options opts_;
};

}  // namespace drover::testing
