// Reads a streamed reply (the event stream, the monitor, a followed log) on a thread of its
// own, so a test can wait for what it needs to show up in it and then stop reading.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace httplib {
class Client;
}

namespace drover::testing {

class StreamReader {
 public:
  using Headers = std::vector<std::pair<std::string, std::string>>;
  // Starts a GET of `path` at `address` (http://host:port) at once.
  StreamReader(const std::string& address, const std::string& path, Headers headers = {});
  ~StreamReader();  // stops reading: the connection closes

  // Waits until `done(what came so far)` holds, the stream ends or `timeout` passes; returns
  // what came so far.
  std::string wait_for(const std::function<bool(const std::string&)>& done,
                       std::chrono::milliseconds timeout = std::chrono::seconds(20));
  // Waits until the stream ended (the server closed it), up to `timeout`; true when it did.
  bool wait_ended(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  int status();  // the reply's status; 0 before its head came, or when it never did
  // Waits for the reply's head (up to `timeout`); its status, 0 when none came.
  int wait_status(std::chrono::milliseconds timeout = std::chrono::seconds(20));
  void stop();   // closes the connection and waits for the reading thread

 private:
  std::unique_ptr<httplib::Client> client_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::string text_;
  int status_ = 0;
  bool ended_ = false;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace drover::testing
