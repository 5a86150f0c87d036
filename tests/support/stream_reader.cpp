// A streamed reply read on a thread; see stream_reader.hpp.
#include "stream_reader.hpp"

#include <httplib.h>

namespace drover::testing {

StreamReader::StreamReader(const std::string& address, const std::string& path, Headers headers)
    : client_(std::make_unique<httplib::Client>(address)) {
  client_->set_connection_timeout(2);
  client_->set_read_timeout(120);
  httplib::Headers h(headers.begin(), headers.end());
  thread_ = std::thread([this, path, h] {
    client_->Get(
        path.c_str(), h,
        [this](const httplib::Response& head) {
          std::lock_guard lock(mu_);
          status_ = head.status;
          cv_.notify_all();
          return true;
        },
        [this](const char* data, size_t len) {
          std::lock_guard lock(mu_);
          text_.append(data, len);
          cv_.notify_all();
          return !stopping_;
        });
    std::lock_guard lock(mu_);
    ended_ = true;
    cv_.notify_all();
  });
}

StreamReader::~StreamReader() { stop(); }

std::string StreamReader::wait_for(const std::function<bool(const std::string&)>& done,
                                   std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return ended_ || done(text_); });
  return text_;
}

bool StreamReader::wait_ended(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return ended_; });
}

int StreamReader::wait_status(std::chrono::milliseconds timeout) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, timeout, [&] { return ended_ || status_ != 0; });
  return status_;
}

int StreamReader::status() {
  std::lock_guard lock(mu_);
  return status_;
}

void StreamReader::stop() {
  if (!thread_.joinable()) return;
  // Client::stop() shuts a request's socket only while one is in flight: asked again until
  // the reading thread has seen it (a stop before its connect would otherwise be missed).
  std::unique_lock lock(mu_);
  stopping_ = true;
  while (!ended_) {
    lock.unlock();
    client_->stop();
    lock.lock();
    cv_.wait_for(lock, std::chrono::milliseconds(100), [&] { return ended_; });
  }
  lock.unlock();
  thread_.join();
}

}  // namespace drover::testing
