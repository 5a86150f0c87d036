// Nomad's data functions, read through the render's DataSource (data_source.hpp): nomadVar,
// nomadVarExists, nomadVarList, nomadVarListSafe, nomadService, nomadServices, and file. Each
// records what it read, so that the template hook re-renders when that changes.
#include "template/data_source.hpp"
#include "template/functions.hpp"

namespace drover::tmpl {

using nlohmann::json;

namespace {

using Table = std::map<std::string, Function, std::less<>>;

// The render's data source, with `dependency` recorded: what the template hook watches to
// re-render when the thing read changes.
Result<DataSource*> source(CallContext& c, std::string dependency) {
  if (!c.in.source) return make_error("no data source in this render", Errc::Unsupported);
  c.dependencies.insert(std::move(dependency));
  return c.in.source;
}

// A read whose NotFound is a value (an empty list, false) rather than an error.
Result<json> or_if_missing(Result<json> r, json missing) {
  if (!r && r.code() == Errc::NotFound) return missing;
  return r;
}

Result<std::string> path_arg(std::vector<json>& a, std::size_t min) {
  if (auto st = want_args(a, min, 1); !st) return st.error();
  if (a.empty()) return std::string();
  return string_arg(a[0]);
}

Result<json> nomad_var(CallContext& c, std::vector<json>& a) {
  auto p = path_arg(a, 1);
  if (!p) return p.error();
  auto s = source(c, "nomadVar:" + *p);
  if (!s) return s.error();
  auto r = (*s)->nomad_var(*p);
  if (!r && r.code() == Errc::NotFound)
    return make_error("no variable at \"" + *p + "\"", Errc::NotFound);
  return r;
}

Result<json> nomad_var_exists(CallContext& c, std::vector<json>& a) {
  auto p = path_arg(a, 1);
  if (!p) return p.error();
  auto s = source(c, "nomadVar:" + *p);
  if (!s) return s.error();
  auto r = or_if_missing((*s)->nomad_var(*p), nullptr);
  if (!r) return r.error();
  return json(!r->is_null());
}

template <bool Safe>
Result<json> nomad_var_list(CallContext& c, std::vector<json>& a) {
  auto p = path_arg(a, 0);
  if (!p) return p.error();
  auto s = source(c, "nomadVarList:" + *p);
  if (!s) return s.error();
  auto r = or_if_missing((*s)->nomad_var_list(*p), json::array());
  // nomadVarListSafe: a prefix the task may not read is an empty list, not an error.
  if (!r && Safe) return json::array();
  return r;
}

Result<json> nomad_service(CallContext& c, std::vector<json>& a) {
  // nomadService NAME, or Nomad's `nomadService COUNT KEY NAME` (rendezvous choice of COUNT
  // instances; here the first COUNT, in the catalog's order).
  if (a.size() != 1 && a.size() != 3)
    return make_error("wrong number of args: want 1 or 3 got " + std::to_string(a.size()),
                      Errc::Invalid);
  auto name = string_arg(a.back());
  if (!name) return name.error();
  int64_t count = -1;
  if (a.size() == 3) {
    auto n = int_arg(a[0]);
    if (!n) return n.error();
    count = *n;
  }
  auto s = source(c, "nomadService:" + *name);
  if (!s) return s.error();
  auto r = or_if_missing((*s)->nomad_service(*name), json::array());
  if (!r) return r;
  if (count >= 0 && r->is_array() && r->size() > static_cast<std::size_t>(count))
    r->erase(r->begin() + count, r->end());
  return r;
}

Result<json> nomad_services(CallContext& c, std::vector<json>& a) {
  if (auto st = want_args(a, 0, 0); !st) return st.error();
  auto s = source(c, "nomadServices");
  if (!s) return s.error();
  return or_if_missing((*s)->nomad_services(), json::array());
}

Result<json> file(CallContext& c, std::vector<json>& a) {
  auto p = path_arg(a, 1);
  if (!p) return p.error();
  auto s = source(c, "file:" + *p);
  if (!s) return s.error();
  auto r = (*s)->read_file(*p);
  if (!r) return r.error();
  return json(std::move(*r));
}

}  // namespace

void add_data_functions(Table& t) {
  t["nomadVar"] = nomad_var;
  t["nomadVarExists"] = nomad_var_exists;
  t["nomadVarList"] = nomad_var_list<false>;
  t["nomadVarListSafe"] = nomad_var_list<true>;
  t["nomadService"] = nomad_service;
  t["nomadServices"] = nomad_services;
  t["file"] = file;
}

}  // namespace drover::tmpl
