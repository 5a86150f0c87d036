// Turns Nomad-style single-dash long flags into the double-dash form CLI11 parses.
#include <cctype>

#include "cli/cli.hpp"

namespace drover::cli {

std::vector<std::string> rewrite_single_dash(const std::vector<std::string>& args) {
  std::vector<std::string> out;
  out.reserve(args.size());
  bool past_separator = false;
  for (const auto& arg : args) {
    if (past_separator) {
      out.push_back(arg);
      continue;
    }
    if (arg == "--") {
      past_separator = true;
      out.push_back(arg);
      continue;
    }
    // "-x" (short flag) keeps one dash; "-5" is a value, not a flag; "-n20" is a short flag
    // with its value attached (no long flag is a letter followed by digits).
    bool single_dash_long = arg.size() >= 3 && arg[0] == '-' && arg[1] != '-' &&
                            std::isalpha(static_cast<unsigned char>(arg[1]));
    if (single_dash_long) {
      bool digits_after_letter = true;
      for (std::size_t i = 2; i < arg.size(); ++i) {
        digits_after_letter =
            digits_after_letter && std::isdigit(static_cast<unsigned char>(arg[i]));
      }
      single_dash_long = !digits_after_letter;
    }
    out.push_back(single_dash_long ? "-" + arg : arg);
  }
  return out;
}

}  // namespace drover::cli
