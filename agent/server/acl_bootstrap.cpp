// The first leader's ACL duty; see acl_bootstrap.hpp.
#include "server/acl_bootstrap.hpp"

#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "server/leader_election.hpp"

namespace drover::server {

void bootstrap_when_leader(std::stop_token stop, const LeaderElection& election,
                           api::EtcdTokenStore& tokens, const std::string& token_file) {
  while (!stop.stop_requested()) {
    if (election.is_leader()) {
      auto made = tokens.bootstrap();
      if (made) {
        if (!made.value()) {
          spdlog::info("acl: the bootstrap token was made before; none made now");
          return;
        }
        const std::string& secret = *made.value();
        spdlog::warn("acl: bootstrap management token made; its secret is shown this once: {}",
                     secret);
        if (!token_file.empty()) {
          int fd = ::open(token_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
          std::string line = secret + "\n";
          if (fd < 0 || ::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size()))
            spdlog::error("acl: cannot write the bootstrap token to {}", token_file);
          else
            spdlog::info("acl: bootstrap token written to {}", token_file);
          if (fd >= 0) ::close(fd);
        }
        return;
      }
      spdlog::warn("{}", made.message());
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

}  // namespace drover::server
