// Go's fmt.Sprintf, Sprint and Sprintln over template values: the verbs %v %s %q %d %f %e %g
// %x %X %o %b %c %t %%, flags, width and precision, and Go's in-band errors (%!d(string=x),
// %!s(MISSING), %!(EXTRA ...)). Internal to agent/template/.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace drover::tmpl {

std::string go_sprintf(const std::string& format, const std::vector<nlohmann::json>& args);
// Spaces between operands when neither is a string.
std::string go_sprint(const std::vector<nlohmann::json>& args);
// Spaces between all operands, and a newline.
std::string go_sprintln(const std::vector<nlohmann::json>& args);
// strconv.Quote: a double-quoted Go string literal.
std::string go_quote(const std::string& s);
// The backslash escapes Go's and JavaScript's string literals share (\\ \" \n \r \t), for
// go_quote and the `js` function: the escape of `c`, or nullptr when it is none of those.
const char* shared_escape(unsigned char c);

}  // namespace drover::tmpl
