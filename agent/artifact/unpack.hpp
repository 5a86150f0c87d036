// Unpacks a downloaded archive with libarchive: tar (plain, gz, bz2, xz), zip, and single
// compressed files (.gz, .bz2, .xz). Every entry goes through an EntryWriter, which keeps it
// beneath the destination and within the caps; device files, fifos and sockets are refused.
#pragma once

#include <filesystem>
#include <string>

#include "artifact/entry_writer.hpp"
#include "artifact/source.hpp"

namespace drover::artifact {

// Unpacks `archive` of `kind` (not None) into `out`, then finishes it (its symlinks). A single
// compressed file becomes the one file `single_name`.
Status unpack(const std::filesystem::path& archive, ArchiveKind kind,
              const std::string& single_name, EntryWriter& out);

}  // namespace drover::artifact
