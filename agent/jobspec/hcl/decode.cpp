// From the syntax tree to values (hcl.hpp's Body): every attribute evaluated, `dynamic` blocks
// expanded into the blocks they stand for (Nomad's jobspec2 and Terraform read them alike),
// and parse(), which reads a file with no variables in scope.
#include <algorithm>

#include "jobspec/hcl/eval.hpp"

namespace drover::jobspec::hcl {

using nlohmann::json;

namespace {

void decode_into(Body& out, const SyntaxBody& body, Evaluator& ev, const Scope& scope,
                 std::vector<std::string>& errors, const std::vector<std::string_view>& skip);

// dynamic "type" { for_each = ..., iterator = name, labels = [...], content { ... } }
void expand_dynamic(Body& out, const SyntaxBlock& d, Evaluator& ev, const Scope& scope,
                    std::vector<std::string>& errors) {
  if (d.labels.size() != 1) {
    errors.push_back(at(d.pos) +
                     "a dynamic block needs one label: the type of the blocks it "
                     "makes (dynamic \"port\" { ... })");
    return;
  }
  const std::string& type = d.labels[0];
  const SyntaxAttribute* for_each = nullptr;
  const SyntaxAttribute* labels = nullptr;
  std::string iterator = type;
  for (const auto& a : d.body.attributes) {
    if (a.name == "for_each") {
      for_each = &a;
    } else if (a.name == "labels") {
      labels = &a;
    } else if (a.name == "iterator") {
      if (a.expr->kind != ExprKind::Variable) {
        errors.push_back(at(a.pos) + "dynamic \"" + type + "\": iterator must be a bare name");
        return;
      }
      iterator = a.expr->name;
    } else {
      errors.push_back(at(a.pos) + "dynamic \"" + type + "\": unknown attribute \"" + a.name +
                       "\" (a dynamic block takes for_each, iterator, labels and content)");
    }
  }
  const SyntaxBlock* content = nullptr;
  for (const auto& b : d.body.blocks) {
    if (b.type == "content" && !content) {
      content = &b;
    } else {
      errors.push_back(at(b.pos) + "dynamic \"" + type + "\": " +
                       (b.type == "content"
                            ? "content appears twice"
                            : "unknown block \"" + b.type + "\" (put it in content)"));
    }
  }
  if (!for_each) {
    errors.push_back(at(d.pos) + "dynamic \"" + type + "\" needs for_each");
    return;
  }
  if (!content) {
    errors.push_back(at(d.pos) + "dynamic \"" + type + "\" needs a content block");
    return;
  }
  json collection;
  try {
    collection = ev.eval(*for_each->expr, scope);
  } catch (const EvalError& e) {
    errors.push_back(describe(e));
    return;
  }
  if (collection.is_null()) return;
  if (!collection.is_array() && !collection.is_object()) {
    errors.push_back(at(for_each->expr->pos) + "dynamic \"" + type +
                     "\": for_each needs a list or a map, got a " + type_name(collection));
    return;
  }
  auto one = [&](const json& key, const json& value) {
    Scope inner(&scope);
    inner.set(iterator, json{{"key", key}, {"value", value}});
    Block block;
    block.type = type;
    block.pos = d.pos;
    if (labels) {
      try {
        json l = ev.eval(*labels->expr, inner);
        if (!l.is_array()) throw EvalError{labels->expr->pos, "labels must be a list of strings"};
        for (const auto& s : l) block.labels.push_back(as_string(s, labels->expr->pos, "label"));
      } catch (const EvalError& e) {
        errors.push_back(describe(e));
        return;
      }
    }
    decode_into(block.body, content->body, ev, inner, errors, {});
    out.blocks.push_back(std::move(block));
  };
  if (collection.is_array()) {
    for (std::size_t i = 0; i < collection.size(); ++i)
      one(static_cast<std::int64_t>(i), collection[i]);
  } else {
    for (const auto& [k, v] : collection.items()) one(k, v);
  }
}

void decode_into(Body& out, const SyntaxBody& body, Evaluator& ev, const Scope& scope,
                 std::vector<std::string>& errors, const std::vector<std::string_view>& skip) {
  for (const auto& a : body.attributes) {
    try {
      out.attributes.push_back({a.name, ev.eval(*a.expr, scope), a.pos});
    } catch (const EvalError& e) {
      errors.push_back(describe(e));
    }
  }
  for (const auto& b : body.blocks) {
    if (std::find(skip.begin(), skip.end(), b.type) != skip.end()) continue;
    if (b.type == "dynamic") {
      expand_dynamic(out, b, ev, scope, errors);
      continue;
    }
    Block block;
    block.type = b.type;
    block.labels = b.labels;
    block.pos = b.pos;
    decode_into(block.body, b.body, ev, scope, errors, {});
    out.blocks.push_back(std::move(block));
  }
}

}  // namespace

Body decode_body(const SyntaxBody& body, Evaluator& ev, const Scope& scope,
                 std::vector<std::string>& errors, const std::vector<std::string_view>& skip) {
  Body out;
  decode_into(out, body, ev, scope, errors, skip);
  return out;
}

drover::Result<Body> parse(std::string_view text, int max_depth) {
  auto tree = parse_syntax(text, max_depth);
  if (!tree) return drover::make_error(tree.message());
  Evaluator ev;
  Scope scope;
  std::vector<std::string> errors;
  Body body = decode_body(*tree, ev, scope, errors);
  if (!errors.empty()) {
    std::string all;
    for (const auto& e : errors) all += (all.empty() ? "" : "\n") + e;
    return drover::make_error(all);
  }
  return body;
}

}  // namespace drover::jobspec::hcl
