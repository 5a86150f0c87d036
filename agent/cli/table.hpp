// Aligned text output in the style of Nomad's CLI: tables whose columns are separated by two
// spaces under a header row, and "Key = value" blocks with the '=' signs lined up.
#pragma once

#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

namespace drover::cli {

class Table {
 public:
  explicit Table(std::vector<std::string> headers);

  // A row shorter than the header is padded with empty cells; a longer one is cut.
  void add_row(std::vector<std::string> cells);
  bool empty() const { return rows_.empty(); }

  // Each column is as wide as its widest cell; the last column is never padded, so no line
  // ends in spaces.
  void render(std::ostream& out) const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

using KeyValues = std::vector<std::pair<std::string, std::string>>;

// "ID          = 1234\nTask Group  = web\n": keys padded so the '=' line up.
void render_key_values(std::ostream& out, const KeyValues& rows);

// Display width of a UTF-8 string (code points; good enough for names and ids).
std::size_t display_width(const std::string& s);

}  // namespace drover::cli
