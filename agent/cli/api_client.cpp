// HTTP requests to the agent's API through cpp-httplib (see api_client.hpp).
#include "cli/api_client.hpp"

#include <httplib.h>

#include <cctype>
#include <cstdlib>
#include <memory>

#include "drover/common/encoding.hpp"

namespace drover::cli {

namespace {

constexpr auto kConnectTimeout = std::chrono::seconds(5);
constexpr auto kReadTimeout = std::chrono::seconds(60);

std::string normalise_address(std::string address) {
  if (address.find("://") == std::string::npos) address = "http://" + address;
  while (!address.empty() && address.back() == '/') address.pop_back();
  return address;
}

std::string transport_error(const std::string& address, httplib::Error error) {
  std::string why;
  switch (error) {
    case httplib::Error::Connection:
      why = "connection refused";
      break;
    case httplib::Error::ConnectionTimeout:
      why = "connection timed out";
      break;
    case httplib::Error::Read:
      why = "connection closed while reading the answer";
      break;
    case httplib::Error::Write:
      why = "connection closed while sending the request";
      break;
    default:
      why = httplib::to_string(error);
      break;
  }
  return "cannot reach the drover agent at " + address + ": " + why;
}

}  // namespace

ApiClient::ApiClient(std::string address, std::string token)
    : address_(normalise_address(std::move(address))), token_(std::move(token)) {}

namespace {

// httplib::Client throws nothing but reports an unusable address (bad scheme) as !is_valid().
std::unique_ptr<httplib::Client> make_client(const std::string& address,
                                             std::chrono::seconds read_timeout) {
  // TLS client options (docs/security.md): the CA to trust, and a client certificate for an
  // agent with verify_https_client.
  auto env = [](const char* name) {
    const char* v = std::getenv(name);
    return std::string(v ? v : "");
  };
  auto cert = env("DROVER_CLIENT_CERT"), key = env("DROVER_CLIENT_KEY");
  auto client = !cert.empty() && !key.empty()
                    ? std::make_unique<httplib::Client>(address, cert, key)
                    : std::make_unique<httplib::Client>(address);
  if (auto ca = env("DROVER_CACERT"); !ca.empty()) {
    client->set_ca_cert_path(ca.c_str());
    client->enable_server_certificate_verification(true);
  }
  client->set_connection_timeout(kConnectTimeout);
  client->set_read_timeout(read_timeout);
  client->set_write_timeout(kReadTimeout);
  return client;
}

}  // namespace

namespace {

Result<ApiResponse> to_response(const std::string& address, const httplib::Result& result) {
  if (!result) return make_error(transport_error(address, result.error()));
  return ApiResponse{result->status, result->body};
}

httplib::Headers headers_for(const std::string& token) {
  httplib::Headers headers;
  if (!token.empty()) headers.emplace("X-Nomad-Token", token);
  return headers;
}

}  // namespace

Result<ApiResponse> ApiClient::get(const std::string& path) const {
  auto client = make_client(address_, kReadTimeout);
  if (!client->is_valid()) return make_error("invalid agent address " + address_);
  return to_response(address_, client->Get(path, headers_for(token_)));
}

Result<ApiResponse> ApiClient::post(const std::string& path, const std::string& body,
                                    const std::string& content_type) const {
  auto client = make_client(address_, kReadTimeout);
  if (!client->is_valid()) return make_error("invalid agent address " + address_);
  return to_response(address_, client->Post(path, headers_for(token_), body, content_type));
}

Result<ApiResponse> ApiClient::put(const std::string& path, const std::string& body,
                                   const std::string& content_type) const {
  auto client = make_client(address_, kReadTimeout);
  if (!client->is_valid()) return make_error("invalid agent address " + address_);
  return to_response(address_, client->Put(path, headers_for(token_), body, content_type));
}

Result<ApiResponse> ApiClient::del(const std::string& path) const {
  auto client = make_client(address_, kReadTimeout);
  if (!client->is_valid()) return make_error("invalid agent address " + address_);
  return to_response(address_, client->Delete(path, headers_for(token_)));
}

Result<ApiResponse> ApiClient::stream(const std::string& path,
                                      const std::function<bool(const char*, std::size_t)>& on_data,
                                      std::chrono::seconds read_timeout) const {
  auto client = make_client(address_, read_timeout);
  if (!client->is_valid()) return make_error("invalid agent address " + address_);
  ApiResponse response;
  bool stopped_by_receiver = false;
  auto result = client->Get(
      path, headers_for(token_),
      [&](const httplib::Response& head) {
        response.status = head.status;
        return true;
      },
      [&](const char* data, std::size_t size) {
        if (response.status < 200 || response.status >= 300) {
          response.body.append(data, size);
          return true;
        }
        if (!on_data(data, size)) {
          stopped_by_receiver = true;
          return false;
        }
        return true;
      });
  if (!result && !(stopped_by_receiver && result.error() == httplib::Error::Canceled)) {
    return make_error(transport_error(address_, result.error()));
  }
  return response;
}

std::string describe_api_error(const ApiResponse& response) {
  auto body = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_object() && body.contains("error") && body["error"].is_string()) {
    std::string message = body["error"].get<std::string>();
    if (body.contains("problems") && body["problems"].is_array()) {
      for (const auto& problem : body["problems"]) {
        std::string line;
        if (problem.is_string()) {
          line = problem.get<std::string>();
        } else if (problem.is_object()) {
          const std::string where = problem.value("path", "");
          const std::string what = problem.value("message", "");
          line = where.empty() ? what : where + ": " + what;
        }
        if (!line.empty()) message += "\n    * " + line;
      }
    }
    return message;
  }
  std::string first_line = response.body.substr(0, response.body.find('\n'));
  if (first_line.size() > 200) first_line.resize(200);
  std::string message = "unexpected response code " + std::to_string(response.status);
  if (!first_line.empty()) message += ": " + first_line;
  return message;
}

Result<nlohmann::json> parse_api_json(const ApiResponse& response) {
  if (response.status < 200 || response.status >= 300) {
    return make_error(describe_api_error(response));
  }
  if (response.body.empty()) return nlohmann::json();
  auto body = nlohmann::json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (body.is_discarded()) return make_error("the agent answered with invalid JSON");
  return body;
}

Result<nlohmann::json> ApiClient::get_json(const std::string& path) const {
  auto response = get(path);
  if (!response) return response.error();
  return parse_api_json(*response);
}

Result<nlohmann::json> ApiClient::post_json(const std::string& path, const std::string& body,
                                            const std::string& content_type) const {
  auto response = post(path, body, content_type);
  if (!response) return response.error();
  return parse_api_json(*response);
}

Result<nlohmann::json> ApiClient::del_json(const std::string& path) const {
  auto response = del(path);
  if (!response) return response.error();
  return parse_api_json(*response);
}

std::string url_escape(const std::string& s) {
  // "." and ".." would be path navigation even without a '/': their dots are encoded too.
  if (!s.empty() && s.find_first_not_of('.') == std::string::npos) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) out += "%2E";
    return out;
  }
  return percent_encode(s);
}

}  // namespace drover::cli
