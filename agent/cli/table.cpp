// Column alignment for the CLI's human output (see table.hpp).
#include "cli/table.hpp"

#include <algorithm>
#include <ostream>

namespace drover::cli {

std::size_t display_width(const std::string& s) {
  std::size_t width = 0;
  for (unsigned char c : s) {
    // Count lead bytes only: continuation bytes (10xxxxxx) belong to the previous code point.
    if ((c & 0xC0) != 0x80) ++width;
  }
  return width;
}

Table::Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}

void Table::add_row(std::vector<std::string> cells) {
  cells.resize(headers_.size());
  rows_.push_back(std::move(cells));
}

namespace {

void write_line(std::ostream& out, const std::vector<std::string>& cells,
                const std::vector<std::size_t>& widths) {
  std::string line;
  for (std::size_t i = 0; i < cells.size(); ++i) {
    if (i > 0) line += "  ";
    line += cells[i];
    if (i + 1 < cells.size()) line.append(widths[i] - display_width(cells[i]), ' ');
  }
  // A trailing empty cell would otherwise leave spaces at the end of the line.
  line.erase(line.find_last_not_of(' ') + 1);
  out << line << '\n';
}

}  // namespace

void Table::render(std::ostream& out) const {
  std::vector<std::size_t> widths(headers_.size(), 0);
  for (std::size_t i = 0; i < headers_.size(); ++i) widths[i] = display_width(headers_[i]);
  for (const auto& row : rows_) {
    for (std::size_t i = 0; i < row.size(); ++i) {
      widths[i] = std::max(widths[i], display_width(row[i]));
    }
  }
  write_line(out, headers_, widths);
  for (const auto& row : rows_) write_line(out, row, widths);
}

void render_key_values(std::ostream& out, const KeyValues& rows) {
  std::size_t key_width = 0;
  for (const auto& [key, value] : rows) key_width = std::max(key_width, display_width(key));
  for (const auto& [key, value] : rows) {
    std::string line = key;
    line.append(key_width - display_width(key), ' ');
    line += " = ";
    line += value;
    line.erase(line.find_last_not_of(' ') + 1);
    out << line << '\n';
  }
}

}  // namespace drover::cli
