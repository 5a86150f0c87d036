// A cheap structural check of a shared object before dlopen: the dynamic loader trusts the
// ELF headers and maps segments past the end of a truncated file, which raises SIGBUS in the
// agent. Catching that here turns a corrupt plugin into a refusal instead of a crash.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace drover::plugins {

// Why `path` is not a loadable shared object for this machine, or nothing when its ELF
// header and program headers are sane and every segment lies inside the file. A file that
// passes can still be hostile: plugin code runs as the agent, so only trusted files belong
// in the plugin folder.
std::optional<std::string> elf_problem(const std::filesystem::path& path);

}  // namespace drover::plugins
