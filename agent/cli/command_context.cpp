// Shared helpers for the CLI's subcommands (see command_context.hpp).
#include "cli/command_context.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <istream>
#include <ostream>

#include "cli/table.hpp"

namespace drover::cli {

bool ask_yes(Context& ctx, const std::string& question, bool default_yes) {
  ctx.out << question << (default_yes ? " [Y/n] " : " [y/N] ") << std::flush;
  std::string line;
  if (!ctx.in || !std::getline(*ctx.in, line)) {
    ctx.out << "\n";
    return false;
  }
  std::transform(line.begin(), line.end(), line.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  line.erase(0, line.find_first_not_of(" \t\r"));
  line.erase(line.find_last_not_of(" \t\r") + 1);
  if (line.empty()) return default_yes;
  return line == "y" || line == "yes";
}

int print_error(Context& ctx, const std::string& message) {
  ctx.err << "Error: " << message << '\n';
  return 1;
}

int print_list(Context& ctx, const std::string& path,
               const std::vector<std::pair<std::string, const char*>>& columns) {
  auto list = ctx.api.get_json(path);
  if (!list) return print_error(ctx, list.message());
  if (ctx.json) {
    print_json(ctx, *list);
    return 0;
  }
  std::vector<std::string> head;
  for (const auto& [title, field] : columns) head.push_back(title);
  Table table(head);
  if (list->is_array())
    for (const auto& item : *list) {
      std::vector<std::string> row;
      for (const auto& [title, field] : columns) row.push_back(str_field(item, field));
      table.add_row(row);
    }
  table.render(ctx.out);
  return 0;
}

void print_json(Context& ctx, const nlohmann::json& value) {
  // error_handler::replace: an agent that sends invalid UTF-8 must not crash the CLI.
  ctx.out << value.dump(4, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
}

std::string str_field(const nlohmann::json& obj, const char* key) {
  if (!obj.is_object()) return "";
  auto it = obj.find(key);
  if (it == obj.end()) return "";
  if (it->is_string()) return it->get<std::string>();
  if (it->is_number() || it->is_boolean()) return it->dump();
  return "";
}

std::int64_t int_field(const nlohmann::json& obj, const char* key) {
  if (!obj.is_object()) return 0;
  auto it = obj.find(key);
  if (it == obj.end() || !it->is_number()) return 0;
  return it->get<std::int64_t>();
}

bool bool_field(const nlohmann::json& obj, const char* key) {
  if (!obj.is_object()) return false;
  auto it = obj.find(key);
  return it != obj.end() && it->is_boolean() && it->get<bool>();
}

std::string short_id(const std::string& id) { return id.substr(0, 8); }

std::string with_namespace(const Context& ctx, const std::string& path) {
  if (ctx.ns.empty()) return path;
  return path + (path.find('?') == std::string::npos ? "?" : "&") +
         "namespace=" + url_escape(ctx.ns);
}

Status write_new_file(const std::string& path, const std::string& text, unsigned mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    if (errno == EEXIST) return make_error("\"" + path + "\" already exists", Errc::Conflict);
    return make_error("cannot write " + path + ": " + std::strerror(errno));
  }
  std::size_t done = 0;
  while (done < text.size()) {
    const ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = errno;
      ::close(fd);
      ::unlink(path.c_str());
      return make_error("cannot write " + path + ": " + std::strerror(err));
    }
    done += static_cast<std::size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(path.c_str());
    return make_error("cannot write " + path + ": " + std::strerror(errno));
  }
  return {};
}

}  // namespace drover::cli
