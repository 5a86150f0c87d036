// `drover var put|get|list|purge|init` (Nomad Variables, docs/variables.md) and
// `drover operator root keyring rotate|list`, as Nomad's commands of the same names.
#include <CLI/CLI.hpp>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <optional>
#include <ostream>
#include <sstream>

#include "cli/command_context.hpp"
#include "cli/table.hpp"
#include "cli/time_format.hpp"
#include "cli/var_spec.hpp"

namespace drover::cli {

// Each path segment escaped on its own, so '/' stays a separator and nothing else can add
// segments or query parameters.
std::string var_url(const std::string& path, const std::string& ns,
                    std::optional<std::uint64_t> cas) {
  std::string url = "/v1/var/";
  std::size_t start = 0;
  for (std::size_t i = 0; i <= path.size(); ++i)
    if (i == path.size() || path[i] == '/') {
      url += url_escape(path.substr(start, i - start));
      if (i < path.size()) url += '/';
      start = i + 1;
    }
  url += "?namespace=" + url_escape(ns);
  if (cas) url += "&cas=" + std::to_string(*cas);
  return url;
}

namespace {

using nlohmann::json;

struct VarFlags {
  std::string path;                // or a specification: @file, - (stdin)
  std::vector<std::string> pairs;  // [@spec | -] k=v, k=@file, k=- (stdin), k= (remove k)
  std::string ns;  // this command's -namespace; "": the global one, else "default"
  std::string out;  // "" or none or table (text), json, hcl
  std::string in = "json";  // a specification's format when its name does not say
  bool force = false;  // no check-and-set, not even on a specification's ModifyIndex
  std::string item;
  std::optional<std::uint64_t> cas;
  std::string prefix;
};

bool is_spec_ref(const std::string& arg) {
  return arg == "-" || (arg.size() > 1 && arg[0] == '@' && arg.find('=') == std::string::npos);
}

std::string read_all(std::istream& in) {
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool wants_json(const Context& ctx, const VarFlags& f) { return ctx.json || f.out == "json"; }

// The variable's namespace: the command's -namespace, else the CLI's (-namespace before the
// command, $DROVER_NAMESPACE, $NOMAD_NAMESPACE), else default.
std::string var_ns(const Context& ctx, const VarFlags& f) {
  if (!f.ns.empty()) return f.ns;
  return ctx.ns.empty() ? "default" : ctx.ns;
}

// A 409 from a check-and-set: Nomad's words, with the index the variable has now. One from a
// lock says the variable is locked.
int print_conflict(Context& ctx, const VarFlags& f, const ApiResponse& r) {
  auto body = json::parse(r.body, nullptr, false);
  const auto error = body.is_object() ? str_field(body, "error") : "";
  if (!error.empty() && error.rfind("cas conflict", 0) != 0)
    return print_error(ctx, "variable \"" + f.path + "\" is locked: " + error +
                                " (its lock's holder may write it, or release the lock)");
  const auto now = body.is_object() ? int_field(body, "ModifyIndex") : 0;
  ctx.err << "Error: Check-and-Set conflict\n\n    Your provided check-index (" << f.cas.value_or(0)
          << ") does not match the server-side index (" << now << ").\n";
  return 1;
}

void print_variable(Context& ctx, const json& v) {
  render_key_values(ctx.out, {{"Namespace", str_field(v, "Namespace")},
                              {"Path", str_field(v, "Path")},
                              {"Create Time", format_unix_nanos(int_field(v, "CreateTime"))},
                              {"Check Index", std::to_string(int_field(v, "ModifyIndex"))}});
  ctx.out << "\nItems\n";
  KeyValues items;
  if (v.contains("Items") && v["Items"].is_object())
    for (const auto& [k, val] : v["Items"].items())
      items.push_back({k, val.is_string() ? val.get<std::string>() : val.dump()});
  render_key_values(ctx.out, items);
}

// The variable a put writes: a specification's (@file or - for stdin, first or after the
// path), the command's path and -namespace over it, then the k=v items over its items.
Result<VarSpec> variable_to_put(const Context& ctx, const VarFlags& f,
                                std::vector<std::string>& pairs) {
  std::string path = f.path;
  std::optional<std::string> spec_ref;
  if (is_spec_ref(path)) {
    spec_ref = path;
    path.clear();
  } else if (!pairs.empty() && is_spec_ref(pairs.front())) {
    spec_ref = pairs.front();
    pairs.erase(pairs.begin());
  }
  VarSpec spec;
  if (spec_ref) {
    std::string text;
    std::string format = f.in;
    if (*spec_ref == "-") {
      text = read_all(std::cin);
    } else {
      const auto file = spec_ref->substr(1);
      std::ifstream in(file, std::ios::binary);
      if (!in) return make_error("cannot read the specification " + file);
      text = read_all(in);
      format = var_spec_format(file, f.in);
    }
    auto parsed = parse_var_spec(text, format, *spec_ref == "-" ? "stdin" : spec_ref->substr(1));
    if (!parsed) return parsed.error();
    spec = std::move(*parsed);
  }
  // A path or namespace given over the specification's makes another variable: the index it
  // was read at means nothing there (Nomad resets it too).
  const std::string ns = !f.ns.empty() ? f.ns : !spec.ns.empty() ? spec.ns : var_ns(ctx, f);
  if ((!path.empty() && path != spec.path) || (!spec.ns.empty() && ns != spec.ns))
    spec.modify_index.reset();
  if (!path.empty()) spec.path = path;
  spec.ns = ns;
  if (spec.path.empty())
    return make_error("var put: give the variable's path (the specification names none)");
  return spec;
}

int var_put(Context& ctx, const VarFlags& f) {
  std::vector<std::string> pairs = f.pairs;
  auto spec = variable_to_put(ctx, f, pairs);
  if (!spec) return print_error(ctx, spec.message());
  json items = spec->items;
  for (const auto& pair : pairs) {
    auto eq = pair.find('=');
    if (eq == std::string::npos || eq == 0)
      return print_error(ctx, "\"" + pair + "\": items are key=value, key=@file or key=- (stdin)");
    std::string key = pair.substr(0, eq), value = pair.substr(eq + 1);
    if (value.empty()) {  // key= takes the item out, as Nomad's does
      items.erase(key);
      continue;
    }
    if (value == "-") {
      value = read_all(std::cin);
    } else if (value[0] == '@') {
      std::ifstream in(value.substr(1), std::ios::binary);
      if (!in) return print_error(ctx, "item " + key + ": cannot read " + value.substr(1));
      value = read_all(in);
    }
    items[key] = value;
  }
  if (items.empty()) return print_error(ctx, "var put: give at least one item (key=value)");
  // Check-and-set: -check-index, else the index a specification was read at (so that a
  // `var get | var put -` does not overwrite a change made in between), unless -force.
  VarFlags checked = f;
  if (!checked.cas && !f.force && spec->modify_index) checked.cas = spec->modify_index;
  json body = {{"Namespace", spec->ns}, {"Path", spec->path}, {"Items", items}};
  auto r = ctx.api.post(var_url(spec->path, spec->ns, checked.cas), body.dump(), "application/json");
  if (!r) return print_error(ctx, r.message());
  checked.path = spec->path;
  if (r->status == 409) return print_conflict(ctx, checked, *r);
  auto v = parse_api_json(*r);
  if (!v) return print_error(ctx, v.message());
  if (wants_json(ctx, f)) {
    print_json(ctx, *v);
    return 0;
  }
  if (f.out == "hcl") {
    ctx.out << render_var_hcl(*v);
    return 0;
  }
  if (f.out == "table") {
    print_variable(ctx, *v);
    return 0;
  }
  ctx.out << "Created variable \"" << spec->path << "\" with modify index "
          << int_field(*v, "ModifyIndex") << "\n";
  return 0;
}

int var_init(Context& ctx, const std::string& out, std::string file) {
  const bool as_json = out == "json";
  if (file.empty()) file = as_json ? "spec.nv.json" : "spec.nv.hcl";
  if (auto st = write_new_file(file, as_json ? kVarInitJson : kVarInitHcl, 0644); !st)
    return print_error(ctx, st.code() == Errc::Conflict ? "file " + st.message() : st.message());
  ctx.out << "Example variable specification written to " << file << "\n";
  return 0;
}

int var_get(Context& ctx, const VarFlags& f) {
  auto v = ctx.api.get_json(var_url(f.path, var_ns(ctx, f)));
  if (!v) return print_error(ctx, v.message());
  if (!f.item.empty()) {
    const auto& items = (*v)["Items"];
    if (!items.is_object() || !items.contains(f.item) || !items[f.item].is_string())
      return print_error(ctx, "variable \"" + f.path + "\" has no item \"" + f.item + "\"");
    ctx.out << items[f.item].get<std::string>() << "\n";
    return 0;
  }
  if (wants_json(ctx, f)) {
    print_json(ctx, *v);
    return 0;
  }
  if (f.out == "hcl") {
    ctx.out << render_var_hcl(*v);
    return 0;
  }
  print_variable(ctx, *v);
  return 0;
}

int var_list(Context& ctx, const VarFlags& f) {
  auto l = ctx.api.get_json("/v1/vars?prefix=" + url_escape(f.prefix) +
                            "&namespace=" + url_escape(var_ns(ctx, f)));
  if (!l) return print_error(ctx, l.message());
  if (wants_json(ctx, f)) {
    print_json(ctx, *l);
    return 0;
  }
  if (!l->is_array() || l->empty()) {
    ctx.out << "No matching variables found\n";
    return 0;
  }
  Table t({"Namespace", "Path", "Last Updated"});
  for (const auto& v : *l)
    t.add_row({str_field(v, "Namespace"), str_field(v, "Path"),
               format_unix_nanos(int_field(v, "ModifyTime"))});
  t.render(ctx.out);
  return 0;
}

int var_purge(Context& ctx, const VarFlags& f) {
  auto r = ctx.api.del(var_url(f.path, var_ns(ctx, f), f.cas));
  if (!r) return print_error(ctx, r.message());
  if (r->status == 409) return print_conflict(ctx, f, *r);
  auto v = parse_api_json(*r);
  if (!v) return print_error(ctx, v.message());
  ctx.out << "Successfully purged variable \"" << f.path << "\"!\n";
  return 0;
}

void common_flags(CLI::App* cmd, VarFlags& f) {
  cmd->add_option("--namespace", f.ns, "The variable's namespace (default: the CLI's -namespace, else default)");
  cmd->add_option("--out", f.out, "Output format: json, hcl, table or none")
      ->check(CLI::IsMember({"json", "hcl", "table", "none", ""}));
}

int keyring_rotate(Context& ctx, bool full) {
  auto k =
      ctx.api.post_json(std::string("/v1/operator/keyring/rotate") + (full ? "?full=true" : ""), "",
                        "application/json");
  if (!k) return print_error(ctx, k.message());
  if (ctx.json) {
    print_json(ctx, *k);
    return 0;
  }
  const auto& key = (*k)["Key"];
  Table t({"Key", "State", "Algorithm"});
  t.add_row({str_field(key, "KeyID"), str_field(key, "State"), str_field(key, "Algorithm")});
  t.render(ctx.out);
  return 0;
}

int keyring_list(Context& ctx) {
  auto l = ctx.api.get_json("/v1/operator/keyring/keys");
  if (!l) return print_error(ctx, l.message());
  if (ctx.json) {
    print_json(ctx, *l);
    return 0;
  }
  Table t({"Key", "State", "Algorithm"});
  for (const auto& key : *l)
    t.add_row({str_field(key, "KeyID"), str_field(key, "State"), str_field(key, "Algorithm")});
  t.render(ctx.out);
  return 0;
}

}  // namespace

void add_var_commands(CLI::App& app, Handler& selected) {
  auto* var = app.add_subcommand("var", "Read and write Nomad Variables");
  var->fallthrough();
  var->require_subcommand(1);
  auto f = std::make_shared<VarFlags>();
  auto cas_option = [f](CLI::App* cmd) {
    cmd->add_option_function<std::uint64_t>(
        "--cas,--check-index", [f](std::uint64_t v) { f->cas = v; },
        "Check-and-set: write only if the variable's ModifyIndex is this (0: only if absent)");
  };

  auto* put = var->add_subcommand(
      "put", "Create or replace a variable: put <path> [@spec.nv.hcl | -] k=v k2=@file k3=");
  put->add_option("path", f->path, "The variable's path, or a specification (@file, - for stdin)")
      ->required();
  put->add_option("items", f->pairs,
                  "[@spec | -] key=value, key=@file, key=- (stdin), key= (takes key out)");
  common_flags(put, *f);
  cas_option(put);
  put->add_option("--in", f->in, "A specification's format when its name does not say (json)")
      ->check(CLI::IsMember({"json", "hcl"}));
  put->add_flag("--force", f->force,
                "Write even if the variable changed since a specification's ModifyIndex");
  put->callback([&selected, f] { selected = [f](Context& ctx) { return var_put(ctx, *f); }; });

  auto* get = var->add_subcommand("get", "Print a variable");
  get->add_option("path", f->path, "The variable's path")->required();
  get->add_option("--item", f->item, "Print only this item's value");
  common_flags(get, *f);
  get->callback([&selected, f] { selected = [f](Context& ctx) { return var_get(ctx, *f); }; });

  auto* list = var->add_subcommand("list", "List variables (metadata only) under a prefix");
  list->add_option("prefix", f->prefix, "Path prefix");
  common_flags(list, *f);
  list->callback([&selected, f] { selected = [f](Context& ctx) { return var_list(ctx, *f); }; });

  auto* purge = var->add_subcommand("purge", "Delete a variable");
  purge->add_option("path", f->path, "The variable's path")->required();
  purge->add_option("--namespace", f->ns, "The variable's namespace (default: the CLI's -namespace, else default)");
  cas_option(purge);
  purge->callback([&selected, f] { selected = [f](Context& ctx) { return var_purge(ctx, *f); }; });

  add_var_lock_command(*var, selected);

  auto init_out = std::make_shared<std::string>("hcl");
  auto init_file = std::make_shared<std::string>();
  auto* init = var->add_subcommand("init", "Write an example variable specification file");
  init->add_option("file", *init_file, "The file (default spec.nv.hcl, or spec.nv.json)");
  init->add_option("--out", *init_out, "hcl or json")->check(CLI::IsMember({"hcl", "json"}));
  init->callback([&selected, init_out, init_file] {
    selected = [init_out, init_file](Context& ctx) { return var_init(ctx, *init_out, *init_file); };
  });

  auto* op = app.add_subcommand("operator", "Operate the agent");
  op->fallthrough();
  op->require_subcommand(1);
  auto* root = op->add_subcommand("root", "The root keys that seal variables");
  root->fallthrough();
  root->require_subcommand(1);
  auto* keyring = root->add_subcommand("keyring", "Manage the variables keyring");
  keyring->fallthrough();
  keyring->require_subcommand(1);
  auto full = std::make_shared<bool>(false);
  auto* rotate = keyring->add_subcommand("rotate", "Make a new active key");
  rotate->add_flag("--full", *full, "Also seal every existing variable again with the new key");
  rotate->callback([&selected, full] {
    selected = [full](Context& ctx) { return keyring_rotate(ctx, *full); };
  });
  auto* klist = keyring->add_subcommand("list", "List the keys");
  klist->callback([&selected] { selected = [](Context& ctx) { return keyring_list(ctx); }; });
}

}  // namespace drover::cli
