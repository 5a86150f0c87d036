// Tables and key/value blocks line up the way Nomad's CLI output does.
#include "cli/table.hpp"

#include <gtest/gtest.h>

#include <sstream>

namespace drover::cli {
namespace {

TEST(Table, ColumnsAreAlignedWithTwoSpacesAndNoTrailingBlanks) {
  Table table({"ID", "Type", "Status"});
  table.add_row({"hello", "service", "running"});
  table.add_row({"a-much-longer-id", "batch", "dead"});
  std::ostringstream out;
  table.render(out);
  EXPECT_EQ(out.str(),
            "ID                Type     Status\n"
            "hello             service  running\n"
            "a-much-longer-id  batch    dead\n");
}

TEST(Table, EmptyLastCellLeavesNoTrailingSpaceAndShortRowsArePadded) {
  Table table({"Name", "Reason"});
  table.add_row({"raw_exec"});
  table.add_row({"x", "ABI 2, agent speaks 1"});
  std::ostringstream out;
  table.render(out);
  EXPECT_EQ(out.str(),
            "Name      Reason\n"
            "raw_exec\n"
            "x         ABI 2, agent speaks 1\n");
}

TEST(Table, WidthCountsCharactersNotBytes) {
  Table table({"A", "B"});
  table.add_row({"héllo", "1"});
  table.add_row({"hello", "2"});
  std::ostringstream out;
  table.render(out);
  EXPECT_EQ(out.str(),
            "A      B\n"
            "héllo  1\n"
            "hello  2\n");
}

TEST(KeyValues, EqualsSignsLineUp) {
  std::ostringstream out;
  render_key_values(out, {{"ID", "abc"}, {"Client Status", "running"}, {"Node", ""}});
  EXPECT_EQ(out.str(),
            "ID            = abc\n"
            "Client Status = running\n"
            "Node          =\n");
}

}  // namespace
}  // namespace drover::cli
