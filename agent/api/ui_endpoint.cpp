// Serves the embedded web UI (api/ui_assets.hpp) from /ui/ and sends a browser at / there.
#include "api/ui_endpoint.hpp"

#include <string>

#include "api/json_reply.hpp"
#include "api/ui_assets.hpp"

namespace drover::api {

// connect-src 'self' covers the API (same origin); no inline script or style anywhere, so a
// task's log or a job's name that reaches the page as markup cannot run.
const char* const kUiContentSecurityPolicy =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'";

namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

const UiAsset* find_asset(std::string_view path) {
  for (auto* a = ui_assets_begin(); a != ui_assets_end(); ++a)
    if (a->path == path) return a;
  return nullptr;
}

void set_ui_headers(httplib::Response& res) {
  res.set_header("Content-Security-Policy", kUiContentSecurityPolicy);
  res.set_header("X-Content-Type-Options", "nosniff");
  res.set_header("X-Frame-Options", "DENY");
  res.set_header("Referrer-Policy", "no-referrer");
}

}  // namespace

std::string_view ui_content_type(std::string_view path) {
  if (ends_with(path, ".html")) return "text/html; charset=utf-8";
  if (ends_with(path, ".js")) return "text/javascript; charset=utf-8";
  if (ends_with(path, ".css")) return "text/css; charset=utf-8";
  if (ends_with(path, ".svg")) return "image/svg+xml";
  if (ends_with(path, ".json") || ends_with(path, ".map")) return "application/json";
  if (ends_with(path, ".png")) return "image/png";
  if (ends_with(path, ".ico")) return "image/x-icon";
  if (ends_with(path, ".woff2")) return "font/woff2";
  return "application/octet-stream";
}

void register_ui_endpoint(httplib::Server& server) {
  // A browser opening the agent's address lands on the UI; API clients keep the JSON 404.
  server.Get("/", [](const httplib::Request& req, httplib::Response& res) {
    if (req.get_header_value("Accept").find("text/html") == std::string::npos)
      return reply_error(res, 404, "no such endpoint: GET / (the web UI is at /ui/)");
    res.set_redirect("/ui/", 302);
  });
  server.Get("/ui", [](const httplib::Request&, httplib::Response& res) {
    res.set_redirect("/ui/", 301);
  });
  server.Get(R"(/ui/(.*))", [](const httplib::Request& req, httplib::Response& res) {
    std::string path = req.matches[1];
    // Nomad's UI path an OIDC provider sends a sign-in back to (its AllowedRedirectURIs name
    // it): the page, which completes the sign-in (docs/security.md).
    if (path.empty() || path == "settings/tokens") path = "index.html";
    const UiAsset* asset = find_asset(path);
    if (!asset) {
      if (ui_assets_begin() == ui_assets_end())
        return reply_error(res, 404,
                           "the web UI is not built into this binary (scripts/build.sh builds it "
                           "when Node is installed: scripts/setup.sh installs it)");
      return reply_error(res, 404, "no such UI file: " + path);
    }
    set_ui_headers(res);
    // Vite names built assets by their content hash: they never change under one name. The
    // page itself is checked every time, so a new agent's UI is picked up on reload.
    res.set_header("Cache-Control", path.rfind("assets/", 0) == 0
                                        ? "public, max-age=31536000, immutable"
                                        : "no-cache");
    res.set_content(std::string(asset->data), std::string(ui_content_type(path)));
  });
}

}  // namespace drover::api
