// Reads one HTTP/1.1 request off a connection's bytes before httplib sees it, so that the
// limits hold whatever the client sends: the head is bounded, the body is bounded before it is
// buffered (Content-Length and chunked alike), compressed bodies are refused rather than
// expanded, and framing that two parsers could read two ways (conflicting Content-Length,
// Transfer-Encoding with Content-Length) is refused. Debian's cpp-httplib 0.11.4 bounds only
// Content-Length bodies and inflates gzip bodies in memory (issue 23). The request handed on
// is rewritten to the one form httplib reads safely: one Content-Length, no Transfer-Encoding,
// the body decoded. No httplib here, so the fuzz target and unit tests drive it alone.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace drover::api {

struct FramingLimits {
  std::size_t max_head_bytes = 64 * 1024;  // request line and headers together
  std::size_t max_body_bytes = 1 << 20;    // after chunked decoding
  // Every body the API takes is JSON or YAML text: one that is not UTF-8 is the client's error
  // (400, naming the byte), refused before a parser or an error reply carries the bytes on.
  bool utf8_bodies = true;
};

class RequestFramer {
 public:
  enum class State { NeedMore, Ready, Refused };

  explicit RequestFramer(FramingLimits limits) : limits_(limits) {}

  // Appends bytes read from the connection and frames as far as they allow.
  State feed(std::string_view bytes);
  State state() const { return state_; }
  // True once a head is read whose client waits for "100 Continue" before sending the body.
  bool wants_continue() const {
    return expect_continue_ && state_ == State::NeedMore && head_done_;
  }
  // Whether any byte of the next request is buffered (the request has begun).
  bool started() const { return !buf_.empty() || head_done_; }
  bool head_read() const { return head_done_; }

  // Ready: the rewritten request; the framer then starts on the bytes left over (pipelining).
  std::string take_request();

  // The bytes read past the last request taken, handed over whole, with the framer reset: for
  // a connection that leaves HTTP after an Upgrade (a websocket client may not send before
  // the 101, but what it sent is its, not a request's).
  std::string take_buffered();

  // Refused: the status and the reason for the client; the connection closes after it.
  int status() const { return status_; }
  const std::string& reason() const { return reason_; }

 private:
  State refuse(int status, std::string reason);
  State advance();
  State parse_head(std::string_view head);
  State read_chunks();
  State finish(std::string_view body);

  FramingLimits limits_;
  State state_ = State::NeedMore;
  std::string buf_;          // bytes received and not yet framed
  std::size_t scanned_ = 0;  // how far buf_ has been searched for the head's end
  bool head_done_ = false;
  bool expect_continue_ = false;
  std::string head_;  // the rewritten head, without its Content-Length and blank line
  enum class Body { Length, Chunked } body_kind_ = Body::Length;
  std::size_t length_ = 0;
  std::string body_;  // the decoded body
  // Chunked decoding: where in the chunk syntax buf_'s first byte is.
  enum class Chunk { Size, Data, DataEnd, Trailer } chunk_ = Chunk::Size;
  std::size_t chunk_left_ = 0;
  std::size_t raw_body_bytes_ = 0;  // chunk syntax included, bounded too
  std::size_t trailer_bytes_ = 0;
  std::string ready_;
  int status_ = 0;
  std::string reason_;
};


}  // namespace drover::api
