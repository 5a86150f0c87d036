// HTTP(S) downloads through libcurl (getters.hpp): the limits of the agent config's artifact
// block, retries with backoff, and resume by Range.
#include <curl/curl.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>

#include "artifact/getters.hpp"

namespace drover::artifact {

namespace {

// What one attempt writes into, and what it saw.
struct Transfer {
  CURL* curl = nullptr;
  int fd = -1;
  std::uint64_t offset = 0;  // bytes already in the file (a resumed download)
  std::uint64_t max = 0;
  bool checked = false;  // the response code was looked at (first body bytes)
  bool discard = false;  // an error status: its body is not the artifact
  bool too_big = false;
  std::string write_error;
};

std::size_t on_body(char* data, std::size_t size, std::size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  const std::size_t len = size * n;
  if (!t->checked) {
    t->checked = true;
    long code = 0;
    curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &code);
    if (code >= 400) {
      t->discard = true;
    } else if (code != 206 && t->offset > 0) {
      // The server sent the whole file again, not the rest of it: start over.
      if (::ftruncate(t->fd, 0) != 0 || ::lseek(t->fd, 0, SEEK_SET) < 0) {
        t->write_error = std::strerror(errno);
        return 0;
      }
      t->offset = 0;
    }
  }
  if (t->discard) return len;
  struct stat st {};
  ::fstat(t->fd, &st);
  if (static_cast<std::uint64_t>(st.st_size) + len > t->max) {
    t->too_big = true;
    return 0;
  }
  for (std::size_t done = 0; done < len;) {
    ssize_t w = ::write(t->fd, data + done, len - done);
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) {
      t->write_error = std::strerror(errno);
      return 0;
    }
    done += static_cast<std::size_t>(w);
  }
  return len;
}

// The URL as messages show it: without its query, which may hold a token.
std::string shown(const std::string& url) { return url.substr(0, url.find('?')); }

bool worth_retrying(CURLcode rc, long status) {
  if (rc == CURLE_OK) return status >= 500 || status == 408 || status == 429;
  switch (rc) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_PARTIAL_FILE:
    case CURLE_RECV_ERROR:
    case CURLE_SEND_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
      return true;
    default:
      return false;
  }
}

}  // namespace

Status http_download(const std::string& url, const std::map<std::string, std::string>& headers,
                     const std::filesystem::path& out, const Limits& limits) {
  static std::once_flag init;
  std::call_once(init, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
  const auto deadline = std::chrono::steady_clock::now() + limits.http_read_timeout;
  int fd = ::open(out.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0) return make_error("creating " + out.string() + ": " + std::strerror(errno));
  std::unique_ptr<int, void (*)(int*)> closer(&fd, [](int* f) { ::close(*f); });
  std::unique_ptr<curl_slist, void (*)(curl_slist*)> list(nullptr, curl_slist_free_all);
  for (const auto& [k, v] : headers) {
    curl_slist* next = curl_slist_append(list.get(), (k + ": " + v).c_str());
    if (!next) return make_error("libcurl: out of memory");
    list.release();
    list.reset(next);
  }
  std::string last_error;
  for (int attempt = 0;; ++attempt) {
    std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
    if (!curl) return make_error("libcurl: cannot start a transfer");
    struct stat st {};
    ::fstat(fd, &st);
    Transfer t;
    t.curl = curl.get();
    t.fd = fd;
    t.offset = static_cast<std::uint64_t>(st.st_size);
    t.max = limits.http_max_size;
    ::lseek(fd, 0, SEEK_END);
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) break;
    char errbuf[CURL_ERROR_SIZE] = "";
    CURL* c = curl.get();
    curl_easy_setopt(c, CURLOPT_URL, url.c_str());
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(c, CURLOPT_MAXREDIRS, static_cast<long>(limits.http_max_redirects));
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "drover-artifact");
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, static_cast<long>(left.count()));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                     static_cast<long>(limits.http_connect_timeout.count()));
    // A transfer that moves less than a byte a second for the stall time is given up.
    curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, 1L);
    curl_easy_setopt(
        c, CURLOPT_LOW_SPEED_TIME,
        static_cast<long>(std::max<long>(1, limits.http_stall_timeout.count() / 1000)));
    curl_easy_setopt(
        c, CURLOPT_MAXFILESIZE_LARGE,
        static_cast<curl_off_t>(limits.http_max_size - std::min(t.offset, limits.http_max_size)));
    if (t.offset > 0)
      curl_easy_setopt(c, CURLOPT_RESUME_FROM_LARGE, static_cast<curl_off_t>(t.offset));
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    if (list) curl_easy_setopt(c, CURLOPT_HTTPHEADER, list.get());
    CURLcode rc = curl_easy_perform(c);
    long status = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (t.too_big || rc == CURLE_FILESIZE_EXCEEDED)
      return make_error("GET " + shown(url) + ": larger than " +
                            std::to_string(limits.http_max_size) +
                            " bytes (agent config artifact.http_max_size)",
                        Errc::Invalid);
    if (!t.write_error.empty())
      return make_error("GET " + shown(url) + ": writing " + out.string() + ": " + t.write_error);
    if (rc == CURLE_OK && status == 416 && t.offset > 0) {
      // The range asked for is past the end: what we hold may be stale. Start over.
      if (::ftruncate(fd, 0) != 0) return make_error("truncating " + out.string());
      last_error = "HTTP 416 on resume";
      if (attempt < limits.http_retries) continue;
    }
    if (rc == CURLE_OK && status >= 200 && status < 300) return {};
    last_error = rc != CURLE_OK ? (errbuf[0] ? std::string(errbuf) : curl_easy_strerror(rc))
                                : "HTTP " + std::to_string(status);
    if (!worth_retrying(rc, status) || attempt >= limits.http_retries) {
      return make_error(
          "GET " + shown(url) + ": " + last_error +
              (attempt > 0 ? " (after " + std::to_string(attempt + 1) + " tries)" : ""),
          Errc::Invalid);
    }
    auto wait = limits.http_retry_backoff * (1 << std::min(attempt, 10));
    if (std::chrono::steady_clock::now() + wait >= deadline) break;
    std::this_thread::sleep_for(wait);
  }
  return make_error("GET " + shown(url) + ": gave up after artifact.http_read_timeout (" +
                        std::to_string(limits.http_read_timeout.count() / 1000) + "s)" +
                        (last_error.empty() ? "" : "; last error: " + last_error),
                    Errc::Invalid);
}

}  // namespace drover::artifact
