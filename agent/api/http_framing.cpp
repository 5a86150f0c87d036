// RequestFramer: the request head checked and rewritten, bodies bounded before buffering.
#include "api/http_framing.hpp"

#include "drover/sdk/utf8.hpp"

#include <algorithm>
#include <cctype>
#include <vector>

namespace drover::api {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool istarts_with(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// RFC 9110 tchar: what a header name or method may hold.
bool is_token(std::string_view s) {
  if (s.empty()) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return std::isalnum(u) || std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
  });
}

// Splits a list header value ("a, b") into trimmed, non-empty items.
std::vector<std::string_view> list_items(std::string_view v) {
  std::vector<std::string_view> out;
  while (!v.empty()) {
    auto comma = v.find(',');
    auto item = trim(v.substr(0, comma));
    if (!item.empty()) out.push_back(item);
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
  return out;
}

// The head's lines without their CR; empty when the head holds a stray CR or a NUL.
bool split_lines(std::string_view head, std::vector<std::string_view>& lines) {
  while (!head.empty()) {
    auto nl = head.find('\n');
    auto line = head.substr(0, nl);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find('\r') != std::string_view::npos || line.find('\0') != std::string_view::npos)
      return false;
    lines.push_back(line);
    if (nl == std::string_view::npos) break;
    head.remove_prefix(nl + 1);
  }
  return true;
}

}  // namespace

RequestFramer::State RequestFramer::refuse(int status, std::string reason) {
  status_ = status;
  reason_ = std::move(reason);
  buf_.clear();
  body_.clear();
  return state_ = State::Refused;
}

RequestFramer::State RequestFramer::feed(std::string_view bytes) {
  if (state_ != State::NeedMore) return state_;
  buf_.append(bytes);
  return advance();
}

std::string RequestFramer::take_request() {
  std::string out = std::move(ready_);
  ready_.clear();
  head_.clear();
  body_.clear();
  head_done_ = expect_continue_ = false;
  scanned_ = length_ = chunk_left_ = raw_body_bytes_ = trailer_bytes_ = 0;
  chunk_ = Chunk::Size;
  body_kind_ = Body::Length;
  state_ = State::NeedMore;
  advance();  // a pipelined request may be in the bytes left over
  return out;
}

std::string RequestFramer::take_buffered() {
  std::string out = std::move(buf_);
  buf_.clear();
  head_done_ = expect_continue_ = false;
  scanned_ = 0;
  state_ = State::NeedMore;
  return out;
}

RequestFramer::State RequestFramer::advance() {
  if (!head_done_) {
    // Blank lines before a request line are allowed (RFC 9112 2.2).
    auto first = buf_.find_first_not_of("\r\n");
    buf_.erase(0, first == std::string::npos ? buf_.size() : first);
    // The head ends at an empty line: "\n\n" or "\n\r\n".
    std::size_t end = std::string::npos;
    for (std::size_t i = scanned_; i < buf_.size(); ++i) {
      if (buf_[i] != '\n' || i == 0) continue;
      if (buf_[i - 1] == '\n' || (buf_[i - 1] == '\r' && i >= 2 && buf_[i - 2] == '\n')) {
        end = i + 1;
        break;
      }
    }
    if (end == std::string::npos) {
      scanned_ = buf_.size();
      if (buf_.size() > limits_.max_head_bytes)
        return refuse(431, "request head too large (the limit is " +
                               std::to_string(limits_.max_head_bytes) + " bytes)");
      return State::NeedMore;
    }
    if (end > limits_.max_head_bytes)
      return refuse(431, "request head too large (the limit is " +
                             std::to_string(limits_.max_head_bytes) + " bytes)");
    auto st = parse_head(std::string_view(buf_).substr(0, end));
    buf_.erase(0, end);
    if (st != State::NeedMore) return st;
    head_done_ = true;
  }
  if (body_kind_ == Body::Chunked) return read_chunks();
  if (buf_.size() < length_) return State::NeedMore;
  auto st = finish(std::string_view(buf_).substr(0, length_));
  buf_.erase(0, length_);
  return st;
}

RequestFramer::State RequestFramer::finish(std::string_view body) {
  if (limits_.utf8_bodies)
    if (auto bad = sdk::first_invalid_utf8(body))
      return refuse(400, "request body is not valid UTF-8 (at byte " + std::to_string(*bad) +
                             "): send JSON or YAML text in UTF-8");
  ready_ = head_ + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n";
  ready_.append(body);
  return state_ = State::Ready;
}

RequestFramer::State RequestFramer::parse_head(std::string_view head) {
  std::vector<std::string_view> lines;
  if (!split_lines(head, lines) || lines.empty())
    return refuse(400, "malformed request head (a CR inside a line, or a NUL byte)");
  while (!lines.empty() && lines.back().empty()) lines.pop_back();
  // The request line: METHOD SP target SP version, single spaces.
  auto request_line = lines.front();
  auto sp1 = request_line.find(' ');
  auto sp2 = sp1 == std::string_view::npos ? sp1 : request_line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || request_line.find(' ', sp2 + 1) != std::string_view::npos ||
      !is_token(request_line.substr(0, sp1)) || sp2 == sp1 + 1)
    return refuse(400, "malformed request line");
  auto version = request_line.substr(sp2 + 1);
  if (version != "HTTP/1.1" && version != "HTTP/1.0")
    return refuse(version.rfind("HTTP/", 0) == 0 ? 505 : 400,
                  "unsupported HTTP version (HTTP/1.1 and HTTP/1.0 are served)");
  head_ = std::string(request_line) + "\r\n";

  bool have_length = false, chunked = false;
  std::string transfer_codings;
  for (std::size_t i = 1; i < lines.size(); ++i) {
    auto line = lines[i];
    if (line.front() == ' ' || line.front() == '\t')
      return refuse(400, "obsolete line folding in the request head is not accepted");
    auto colon = line.find(':');
    auto name = line.substr(0, colon);
    if (colon == std::string_view::npos || !is_token(name))
      return refuse(400,
                    "malformed header line " + std::to_string(i + 1) + " (want \"Name: value\")");
    auto value = trim(line.substr(colon + 1));
    if (iequals(name, "Content-Length")) {
      auto items = list_items(value);
      if (items.empty()) return refuse(400, "Content-Length: must be a number of bytes");
      for (auto item : items) {
        if (item.size() > 19 ||
            !std::all_of(item.begin(), item.end(), [](char c) { return c >= '0' && c <= '9'; }))
          return refuse(400, "Content-Length: must be a number of bytes, not \"" +
                                 std::string(item.substr(0, 32)) + "\"");
        std::size_t n = std::stoull(std::string(item));
        if (have_length && n != length_)
          return refuse(400, "conflicting Content-Length headers (" + std::to_string(length_) +
                                 " and " + std::to_string(n) + ")");
        have_length = true;
        length_ = n;
      }
      continue;  // written once, below
    }
    if (iequals(name, "Transfer-Encoding")) {
      for (auto item : list_items(value)) {
        if (!transfer_codings.empty()) transfer_codings += ", ";
        transfer_codings += std::string(item.substr(0, 64));
        if (chunked || !iequals(item, "chunked"))
          return refuse(501, "Transfer-Encoding \"" + transfer_codings +
                                 "\" is not supported (only chunked)");
        chunked = true;
      }
      continue;  // the body is handed on decoded
    }
    if (iequals(name, "Content-Encoding")) {
      for (auto item : list_items(value))
        if (!iequals(item, "identity"))
          return refuse(415, "Content-Encoding \"" + std::string(item.substr(0, 64)) +
                                 "\" is not accepted on requests: send the body uncompressed");
      continue;
    }
    // Form bodies: httplib would parse them into query parameters under its own 8 KiB cap.
    // No endpoint takes form fields, and `curl -d @job.json` sends a job with this type, so
    // the body is handed on as it is, under the normal body cap.
    if (iequals(name, "Content-Type") && istarts_with(value, "application/x-www-form-urlencoded"))
      continue;
    if (iequals(name, "Expect")) {
      if (!iequals(value, "100-continue"))
        return refuse(417, "Expect: only 100-continue is understood");
      expect_continue_ = true;  // answered by the connection, not by httplib
      continue;
    }
    head_.append(line);
    head_.append("\r\n");
  }
  if (chunked && have_length)
    return refuse(400, "a request cannot have both Transfer-Encoding and Content-Length");
  if (!chunked && length_ > limits_.max_body_bytes)
    return refuse(413, "request body too large (" + std::to_string(length_) +
                           " bytes; the limit is " + std::to_string(limits_.max_body_bytes) + ")");
  body_kind_ = chunked ? Body::Chunked : Body::Length;
  if (!chunked && length_ == 0) expect_continue_ = false;
  return State::NeedMore;
}

RequestFramer::State RequestFramer::read_chunks() {
  // The chunk syntax may cost a little more than the data it frames, never without bound
  // (a body of one-byte chunks, or long chunk extensions).
  const std::size_t max_raw = 2 * limits_.max_body_bytes + limits_.max_head_bytes;
  auto consume = [&](std::size_t n) {
    buf_.erase(0, n);
    raw_body_bytes_ += n;
  };
  for (;;) {
    if (raw_body_bytes_ > max_raw)
      return refuse(413, "chunked request body too large (the limit is " +
                             std::to_string(limits_.max_body_bytes) + " bytes)");
    switch (chunk_) {
      case Chunk::Size: {
        auto nl = buf_.find('\n');
        if (nl == std::string::npos) {
          if (buf_.size() > 4096) return refuse(400, "chunk size line too long");
          return State::NeedMore;
        }
        std::string_view line(buf_.data(), nl);
        if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
        auto size = trim(line.substr(0, line.find(';')));
        if (size.empty() || size.size() > 15 || !std::all_of(size.begin(), size.end(), [](char c) {
              return std::isxdigit(static_cast<unsigned char>(c));
            }))
          return refuse(400, "malformed chunk size in a chunked body");
        std::size_t n = std::stoull(std::string(size), nullptr, 16);
        if (n > limits_.max_body_bytes || body_.size() + n > limits_.max_body_bytes)
          return refuse(413, "chunked request body too large (the limit is " +
                                 std::to_string(limits_.max_body_bytes) + " bytes)");
        consume(nl + 1);
        chunk_left_ = n;
        chunk_ = n == 0 ? Chunk::Trailer : Chunk::Data;
        break;
      }
      case Chunk::Data: {
        auto n = std::min(chunk_left_, buf_.size());
        body_.append(buf_, 0, n);
        consume(n);
        chunk_left_ -= n;
        if (chunk_left_ > 0) return State::NeedMore;
        chunk_ = Chunk::DataEnd;
        break;
      }
      case Chunk::DataEnd:
        if (!buf_.empty() && buf_[0] == '\n') {
          consume(1);
        } else if (buf_.size() < 2) {
          return State::NeedMore;
        } else if (buf_.compare(0, 2, "\r\n") == 0) {
          consume(2);
        } else {
          return refuse(400, "chunk data not followed by CRLF in a chunked body");
        }
        chunk_ = Chunk::Size;
        break;
      case Chunk::Trailer: {
        // Trailer fields are read and dropped; an empty line ends the body.
        auto nl = buf_.find('\n');
        if (nl == std::string::npos) {
          if (trailer_bytes_ + buf_.size() > limits_.max_head_bytes)
            return refuse(431, "chunked body trailer too large");
          return State::NeedMore;
        }
        bool last = nl == 0 || (nl == 1 && buf_[0] == '\r');
        trailer_bytes_ += nl + 1;
        consume(nl + 1);
        if (trailer_bytes_ > limits_.max_head_bytes)
          return refuse(431, "chunked body trailer too large");
        if (!last) break;
        auto st = finish(body_);
        body_.clear();
        return st;
      }
    }
  }
}


}  // namespace drover::api
