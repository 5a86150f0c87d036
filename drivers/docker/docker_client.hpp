// A small Docker Engine API client over the daemon's unix socket (or tcp://host:port).
// Only what the docker driver needs: JSON requests, a raw body upload, a streamed GET, and a
// hijacked connection (exec).
// httplib stays inside docker_client.cpp; nothing else in the plugin (nor the agent) sees it.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace drover::docker {

// One answer from the daemon. status 0: no answer at all (connection refused, timeout);
// `error` then says why.
struct Response {
  int status = 0;
  std::string body;
  std::string error;

  bool ok() const { return status >= 200 && status < 300; }
  // The daemon's {"message": ...} when it sent one, else the body, else the transport error.
  std::string message() const;
  nlohmann::json json() const;  // throws on a body that is not JSON
};

// Lets one thread end another's stream() at once (shutting its socket down).
class StreamCancel {
 public:
  void cancel();
  bool cancelled() const { return cancelled_; }

 private:
  friend class DockerClient;
  std::mutex mu_;
  std::function<void()> stop_;  // set while a stream is in flight
  std::atomic<bool> cancelled_{false};
};

class DockerClient {
 public:
  // endpoint: "unix:///var/run/docker.sock" or "tcp://host:port". Throws on other schemes.
  explicit DockerClient(std::string endpoint);

  const std::string& endpoint() const { return endpoint_; }
  // "/v1.41" once negotiate() learned the daemon's API version; "" before (unversioned).
  std::string prefix() const;
  // Reads /version and pins the API version to min(daemon's, kMaxApiVersion).
  // Returns the /version body (status 0 when the daemon does not answer).
  Response negotiate();

  // path includes the query string and is relative to the version prefix, e.g. "/_ping".
  Response get(const std::string& path, std::chrono::milliseconds timeout) const;
  Response post(const std::string& path, const nlohmann::json& body,
                std::chrono::milliseconds timeout,
                const std::vector<std::pair<std::string, std::string>>& headers = {}) const;
  Response post_raw(const std::string& path, std::string body, const std::string& content_type,
                    std::chrono::milliseconds timeout) const;
  Response del(const std::string& path, std::chrono::milliseconds timeout) const;
  // Sends POST /containers/<id>/wait?condition=not-running on a connection of its own and
  // hands the connection over: it becomes readable when the container has stopped (the
  // daemon answers) or the daemon went away (it hangs up). -1 when the daemon cannot be
  // reached. The caller closes it.
  int open_wait(const std::string& container_id) const;
  // A POST that the daemon answers by handing the connection over as a raw stream (the
  // Engine API's "hijacking": POST /exec/<id>/start), asked for with `Upgrade: tcp`. `fd` is
  // that stream once the daemon switched (101, or 200 from a daemon that does not upgrade),
  // with nothing of it read yet; the caller closes it. Else fd is -1 and `refused` says why.
  // `timeout` bounds the request and the daemon's answer, not the stream.
  struct Hijacked {
    int fd = -1;
    Response refused;
  };
  Hijacked hijack(const std::string& path, const nlohmann::json& body,
                  std::chrono::milliseconds timeout) const;

  // A POST whose answer is handed to `on_data` as it arrives (an image pull's progress
  // stream); on_data returns false to stop. The body of an error status is kept in the
  // Response instead. read_timeout bounds each read, not the whole call.
  Response post_stream(const std::string& path,
                       const std::vector<std::pair<std::string, std::string>>& headers,
                       const std::function<bool(const char*, size_t)>& on_data,
                       std::chrono::milliseconds read_timeout) const;

  // A GET whose body is handed to `on_data` as it arrives (docker's log stream). on_data
  // returns false to stop; `cancel` (optional) lets another thread end it at once.
  Response stream(const std::string& path, const std::function<bool(const char*, size_t)>& on_data,
                  std::chrono::milliseconds read_timeout, class StreamCancel* cancel) const;

 private:
  std::string endpoint_;
  bool unix_ = true;
  std::string host_;  // socket path, or tcp host
  int port_ = 0;
  std::string version_prefix_;

  int connect_socket() const;  // a fresh connection to the daemon, close-on-exec; -1 if none
};

// Docker's multiplexed stream framing (8-byte header: stream, 0, 0, 0, size big-endian) for
// containers without a TTY. Feed bytes in any chunking; whole frames come out.
class FrameDecoder {
 public:
  // stream: 1 stdout, 2 stderr.
  using Sink = std::function<void(int stream, const char* data, size_t len)>;
  void feed(const char* data, size_t len, const Sink& sink);

 private:
  std::string buf_;
};

}  // namespace drover::docker
