// GET /ui/...: the embedded web UI (docs/ui.md), and / redirecting a browser there. UI
// replies carry a strict Content-Security-Policy: scripts and styles only from this origin,
// nothing inline, no framing.
#pragma once

#include <string_view>

namespace httplib {
class Server;
}

namespace drover::api {

// The CSP every UI reply carries (docs/ui.md, "Security").
extern const char* const kUiContentSecurityPolicy;

// The content type of a UI file, by its extension.
std::string_view ui_content_type(std::string_view path);

void register_ui_endpoint(httplib::Server& server);

}  // namespace drover::api
