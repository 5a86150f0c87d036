// Which capabilities this host cannot hand to a container: those the kernel knows but the
// agent's bounding set lacks (a root inside a restricted VM or container). A privileged
// container asks for all of them, and runc then fails with only "unable to apply caps".
#pragma once

#include <string>
#include <vector>

namespace drover::docker {

// "CAP_SYS_RESOURCE", ... (or "CAP_<number>" past the names known here); empty when the
// bounding set is full or cannot be read.
std::vector<std::string> caps_missing_from_bounding_set();

}  // namespace drover::docker
