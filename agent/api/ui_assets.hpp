// The web UI's built files (ui/dist, made by Vite in scripts/build.sh), embedded in the binary
// at build time by ui/embed.cmake, so the agent serves its UI without Node or files beside it.
#pragma once

#include <cstddef>
#include <string_view>

namespace drover::api {

struct UiAsset {
  std::string_view path;  // relative to ui/dist: "index.html", "assets/index-1a2b.js"
  std::string_view data;
};

// Every embedded file; none when the UI was not built (Node missing at build time).
const UiAsset* ui_assets_begin();
const UiAsset* ui_assets_end();

}  // namespace drover::api
