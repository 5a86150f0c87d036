// Printing Nomad's job diff; see job_diff_view.hpp.
#include "cli/job_diff_view.hpp"

#include <string>

namespace drover::cli {

namespace {

using nlohmann::json;

std::string marker(const json& d) {
  const std::string t = d.value("Type", "None");
  if (t == "Added") return "+";
  if (t == "Deleted") return "-";
  if (t == "Edited") return "+/-";
  return "";
}

void print_fields_and_objects(std::ostream& out, const json& d, const std::string& indent) {
  for (const auto& f : d.value("Fields", json::array())) {
    if (f.is_null()) continue;
    out << indent << marker(f) << ' ' << f.value("Name", "") << ": ";
    const std::string t = f.value("Type", "");
    if (t == "Added")
      out << '"' << f.value("New", "") << "\"\n";
    else if (t == "Deleted")
      out << '"' << f.value("Old", "") << "\"\n";
    else
      out << '"' << f.value("Old", "") << "\" => \"" << f.value("New", "") << "\"\n";
  }
  for (const auto& o : d.value("Objects", json::array())) {
    if (o.is_null()) continue;
    out << indent << marker(o) << ' ' << o.value("Name", "") << " {\n";
    print_fields_and_objects(out, o, indent + "  ");
    out << indent << "  }\n";
  }
}

// Nomad's group summary: "(1 create, 2 in-place update)".
std::string planned(const json& u) {
  if (!u.is_object()) return "";
  std::string out;
  for (const auto& [key, word] : {std::pair{"Place", "create"}, {"Stop", "destroy"},
                                  {"Migrate", "migrate"}, {"InPlaceUpdate", "in-place update"},
                                  {"DestructiveUpdate", "create/destroy update"},
                                  {"Canary", "canary"}, {"Ignore", "ignore"}}) {
    const int n = u.value(key, 0);
    if (n > 0) out += (out.empty() ? "" : ", ") + std::to_string(n) + " " + word;
  }
  return out.empty() ? "" : " (" + out + ")";
}

}  // namespace

void print_job_diff(std::ostream& out, const json& diff, const json& updates) {
  const std::string m = marker(diff);
  out << (m.empty() ? "" : m + " ") << "Job: \"" << diff.value("ID", "") << "\"\n";
  print_fields_and_objects(out, diff, "");
  for (const auto& g : diff.value("TaskGroups", json::array())) {
    const std::string name = g.value("Name", "");
    const json u = updates.is_object() ? updates.value(name, json()) : json();
    const std::string gm = marker(g);
    out << (gm.empty() ? "" : gm + " ") << "Task Group: \"" << name << '"' << planned(u) << '\n';
    print_fields_and_objects(out, g, "  ");
    for (const auto& t : g.value("Tasks", json::array())) {
      const std::string tm = marker(t);
      if (tm.empty()) continue;
      out << "  " << tm << " Task: \"" << t.value("Name", "") << "\"\n";
      print_fields_and_objects(out, t, "    ");
    }
  }
}

}  // namespace drover::cli
