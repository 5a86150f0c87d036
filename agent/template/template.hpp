// Go's text/template, as consul-template and Nomad's `template` block use it, in C++: parse a
// template once (at submit, to refuse a bad one with its line and column), render it as many
// times as its data changes. Values are JSON (nlohmann::json); the functions are Go's builtins
// and consul-template's helpers (docs/templates.md).
//
// The namespace is drover::tmpl, not drover::template: `template` is a C++ keyword.
#pragma once

#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "drover/common/result.hpp"

namespace drover::tmpl {

struct Tree;
class DataSource;

struct Options {
  std::string left_delim = "{{";
  std::string right_delim = "}}";
  // Go's missingkey=error (the template block's error_on_missing_key): a map key that is not
  // there is an error instead of "<no value>".
  bool error_on_missing_key = false;
};

class Template {
 public:
  // Parses `text`; errors read as Go's: `template: NAME:LINE:COL: message`. A function that is
  // neither Go's nor one drover provides is an error here, as in Go; one that needs Consul or
  // Vault says so.
  static Result<Template> parse(const std::string& name, std::string_view text,
                                const Options& options = {});

  const std::string& name() const;
  // Every function the template calls, once each, in the order they first appear.
  const std::vector<std::string>& functions() const;
  const Options& options() const { return options_; }

 private:
  friend class Evaluator;
  friend Result<struct Rendered> render(const Template&, const struct RenderInput&);
  std::shared_ptr<const Tree> tree_;
  Options options_;
};

// What one render reads besides its text.
struct RenderInput {
  nlohmann::json data = nullptr;           // the initial dot (Nomad gives none)
  std::map<std::string, std::string> env;  // what `env` reads: the task's environment
  DataSource* source = nullptr;            // nomadVar..., nomadService..., file; null: none
};

struct Rendered {
  std::string text;
  // What the render read that can change: "nomadVar:PATH", "nomadVarList:PREFIX",
  // "nomadService:NAME", "nomadServices", "file:PATH". The template hook re-renders when any
  // of these changes.
  std::set<std::string> dependencies;
};

// Executes the template; errors read as Go's:
// `template: NAME:LINE:COL: executing "NAME" at <.Foo>: map has no entry for key "Foo"`.
Result<Rendered> render(const Template& t, const RenderInput& in);

// The functions that need Consul or Vault (refused: drover connects to neither), with which.
// Empty for any other name.
std::string_view needs_consul_or_vault(std::string_view function);

}  // namespace drover::tmpl
