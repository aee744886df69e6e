#include "config/document.h"

#include <yaml-cpp/anchor.h>
#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include <algorithm>
#include <exception>
#include <istream>
#include <map>
#include <optional>
#include <set>
#include <streambuf>
#include <string>
#include <utility>
#include <vector>

#include "config/text.h"

namespace amf::config::detail {
namespace {

// yaml-cpp marks are 0-based; ours are 1-based.
Mark to_mark(const YAML::Mark& mark) { return Mark{mark.line + 1, mark.column + 1}; }

// Thrown by the event handlers to stop yaml-cpp's parser; caught in parse_document, never
// leaves this file.
struct Refusal {
  Mark at;
  std::string message;
};

std::string aliases_note() { return ", counting each alias as a copy of what it names"; }

// The text as an istream, without copying it (yaml-cpp's Parser reads a stream).
class TextBuffer : public std::streambuf {
 public:
  explicit TextBuffer(std::string_view text) {
    // The get area is only read: std::streambuf writes to it through pbackfail only, which this
    // class does not override.
    char* begin = const_cast<char*>(text.data());
    setg(begin, begin, begin + text.size());
  }
};

// Builds our tree from yaml-cpp's events, counting as it goes; throws a Refusal at the first
// node past a bound. An alias is left as a placeholder (expanded by expand_aliases once the
// document is complete) but counted at once as the copy it will become.
class Builder : public YAML::EventHandler {
 public:
  Node take_root() { return std::move(root_); }

  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    const Totals before = totals_;
    add_node(mark);
    Node node;
    node.mark = to_mark(mark);
    finish(std::move(node), anchor, before, /*height=*/0);
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag, YAML::anchor_t anchor,
                const std::string& value) override {
    const Totals before = totals_;
    add_node(mark);
    if (value.size() > kMaxScalarBytes) {
      throw Refusal{to_mark(mark),
                    "value is " + std::to_string(value.size()) + " bytes long, longer than " +
                        std::to_string(kMaxScalarBytes) + " bytes (the limit for one value)"};
    }
    add_text(mark, value.size());
    Node node;
    node.kind = Node::Kind::kScalar;
    node.mark = to_mark(mark);
    node.scalar = value;
    // yaml-cpp tags an untagged plain scalar "?" and a quoted one "!": only a plain `<<` merges.
    node.merge_key = tag == "?" && value == "<<";
    finish(std::move(node), anchor, before, /*height=*/0);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = anchors_.find(anchor);
    if (it == anchors_.end()) {
      // yaml-cpp reports aliases of undefined anchors itself: this one is still open.
      throw Refusal{to_mark(mark),
                    "this alias refers to a node that contains it (a recursive alias), which "
                    "cannot be expanded"};
    }
    const Subtree& target = it->second;
    if (depth() + target.height > kMaxDocumentDepth) {
      throw Refusal{to_mark(mark), "nested deeper than " + std::to_string(kMaxDocumentDepth) +
                                       " levels (the nesting limit) once this alias is expanded"};
    }
    const Totals before = totals_;
    totals_.nodes += target.totals.nodes;
    if (totals_.nodes > kMaxDocumentNodes) throw too_many_nodes(mark);
    add_text(mark, target.totals.bytes);
    Node placeholder;
    placeholder.mark = to_mark(mark);
    placeholder.alias = anchor;
    finish(std::move(placeholder), YAML::NullAnchor, before, target.height);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(mark, Node::Kind::kSequence, anchor);
  }
  void OnSequenceEnd() override { close(); }

  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t anchor,
                  YAML::EmitterStyle::value) override {
    open(mark, Node::Kind::kMapping, anchor);
  }
  void OnMapEnd() override { close(); }

 private:
  struct Totals {
    std::size_t nodes = 0;
    std::size_t bytes = 0;
  };
  // What an anchored node adds wherever an alias copies it.
  struct Subtree {
    Totals totals;
    int height = 0;  // levels of collections below the node
  };
  struct Frame {
    Node node;
    std::optional<Node> key;  // kMapping: a key waiting for its value
    YAML::anchor_t anchor = YAML::NullAnchor;
    Totals before;  // the totals before this node, to size it when it closes
    int height = 0;
  };

  int depth() const { return static_cast<int>(stack_.size()); }

  Refusal too_many_nodes(const YAML::Mark& mark) const {
    return Refusal{to_mark(mark), "document too large: more than " +
                                      std::to_string(kMaxDocumentNodes) + " YAML nodes by here" +
                                      aliases_note()};
  }

  // Counts one node at the current depth.
  void add_node(const YAML::Mark& mark) {
    if (depth() > kMaxDocumentDepth) {
      throw Refusal{to_mark(mark), "nested deeper than " + std::to_string(kMaxDocumentDepth) +
                                       " levels (the nesting limit): this node is at depth " +
                                       std::to_string(depth())};
    }
    if (++totals_.nodes > kMaxDocumentNodes) throw too_many_nodes(mark);
  }

  void add_text(const YAML::Mark& mark, std::size_t bytes) {
    totals_.bytes += bytes;
    if (totals_.bytes > kMaxDocumentTextBytes) {
      throw Refusal{to_mark(mark), "document too large: more than " +
                                       std::to_string(kMaxDocumentTextBytes) +
                                       " bytes of text by here" + aliases_note()};
    }
  }

  void open(const YAML::Mark& mark, Node::Kind kind, YAML::anchor_t anchor) {
    const Totals before = totals_;
    add_node(mark);
    Frame& frame = stack_.emplace_back();
    frame.node.kind = kind;
    frame.node.mark = to_mark(mark);
    frame.anchor = anchor;
    frame.before = before;
  }

  void close() {
    Frame frame = std::move(stack_.back());
    stack_.pop_back();
    finish(std::move(frame.node), frame.anchor, frame.before, frame.height);
  }

  // Records a complete node (and its anchor) and hands it to its parent.
  void finish(Node node, YAML::anchor_t anchor, Totals before, int height) {
    if (anchor != YAML::NullAnchor) {
      anchors_[anchor] =
          Subtree{{totals_.nodes - before.nodes, totals_.bytes - before.bytes}, height};
      node.anchor = anchor;
    }
    if (stack_.empty()) {
      root_ = std::move(node);
      return;
    }
    Frame& parent = stack_.back();
    parent.height = std::max(parent.height, height + 1);
    if (parent.node.kind == Node::Kind::kSequence) {
      parent.node.items.push_back(std::move(node));
    } else if (!parent.key) {
      parent.key = std::move(node);
    } else {
      parent.node.entries.push_back(MapEntry{std::move(*parent.key), std::move(node)});
      parent.key.reset();
    }
  }

  std::vector<Frame> stack_;  // the open collections, at most kMaxDocumentDepth + 1
  std::map<YAML::anchor_t, Subtree> anchors_;
  Totals totals_;
  Node root_;
};

// Stops at the first node of a document after the first.
class SecondDocument : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark&) override {}
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark& mark, YAML::anchor_t) override { refuse(mark); }
  void OnAlias(const YAML::Mark& mark, YAML::anchor_t) override { refuse(mark); }
  void OnScalar(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                const std::string&) override {
    refuse(mark);
  }
  void OnSequenceStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    refuse(mark);
  }
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark& mark, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    refuse(mark);
  }
  void OnMapEnd() override {}

 private:
  [[noreturn]] static void refuse(const YAML::Mark& mark) {
    throw Refusal{to_mark(mark),
                  "a second YAML document starts here; the configuration must be one document"};
  }
};

// Replaces every alias placeholder by a copy of its anchored node, in document order: an anchor
// always comes before its aliases and is expanded by then. The Builder has bounded the result.
// No vector of the tree grows here, so the pointers in `anchors` stay valid.
void expand_aliases(Node& node, std::map<std::size_t, const Node*>& anchors) {
  if (node.alias != 0) {
    node = *anchors.at(node.alias);
    return;
  }
  for (Node& item : node.items) expand_aliases(item, anchors);
  for (MapEntry& entry : node.entries) {
    expand_aliases(entry.key, anchors);
    expand_aliases(entry.value, anchors);
  }
  if (node.anchor != 0) {
    anchors[node.anchor] = &node;
    node.anchor = 0;
  }
}

std::string describe_kind(const Node& node) {
  switch (node.kind) {
    case Node::Kind::kNull:
      return "nothing";
    case Node::Kind::kScalar:
      return "a scalar";
    case Node::Kind::kSequence:
      return "a sequence";
    case Node::Kind::kMapping:
      return "a mapping";
  }
  return "nothing";
}

// Applies the YAML merge keys of `node` and everything in it, innermost first, so that a merged
// mapping's own `<<` is resolved before it is merged. A merge only moves entries that aliases
// have already copied (and the Builder counted), so it cannot grow the tree past its bounds.
void apply_merge_keys(Node& node) {
  for (Node& item : node.items) apply_merge_keys(item);
  for (MapEntry& entry : node.entries) {
    apply_merge_keys(entry.key);
    apply_merge_keys(entry.value);
  }
  if (!node.is_mapping()) return;
  const MapEntry* merge = nullptr;
  std::set<std::string, std::less<>> given;  // the mapping's own keys win over merged ones
  for (const MapEntry& entry : node.entries) {
    if (entry.key.merge_key) {
      if (merge != nullptr) {
        throw Refusal{entry.key.mark,
                      "a second merge key '<<' in this mapping (the first is at line " +
                          std::to_string(merge->key.mark.line) +
                          "); merge several mappings with one: '<<: [*a, *b]'"};
      }
      merge = &entry;
    } else if (entry.key.is_scalar()) {
      given.insert(entry.key.scalar);
    }
  }
  if (merge == nullptr) return;
  std::vector<MapEntry> entries;
  entries.reserve(node.entries.size());
  for (MapEntry& entry : node.entries) {
    if (!entry.key.merge_key) {
      entries.push_back(std::move(entry));
      continue;
    }
    std::vector<Node*> sources;
    if (entry.value.is_mapping()) sources.push_back(&entry.value);
    for (Node& item : entry.value.items) sources.push_back(&item);
    const bool valid =
        entry.value.is_mapping() ||
        (entry.value.is_sequence() &&
         std::all_of(sources.begin(), sources.end(), [](Node* n) { return n->is_mapping(); }));
    if (!valid) {
      throw Refusal{entry.value.is_null() ? entry.key.mark : entry.value.mark,
                    "the merge key '<<' takes a mapping or a sequence of mappings, usually "
                    "aliases ('<<: *defaults', '<<: [*a, *b]'), not " +
                        describe_kind(entry.value) +
                        (entry.value.is_sequence() ? " holding something else" : "")};
    }
    for (Node* source : sources) {
      // A key given twice in a merged mapping would otherwise vanish unreported (the mapping
      // may sit under an x- key that nothing else reads).
      std::map<std::string, int, std::less<>> in_source;
      for (const MapEntry& merged : source->entries) {
        if (!merged.key.is_scalar()) continue;
        auto [it, first] = in_source.emplace(merged.key.scalar, merged.key.mark.line);
        if (!first) {
          throw Refusal{merged.key.mark, "duplicate key '" + merged.key.scalar +
                                             "' in a mapping merged by '<<' (first given at "
                                             "line " +
                                             std::to_string(it->second) + ")"};
        }
      }
      for (MapEntry& merged : source->entries) {
        if (merged.key.is_scalar() && !given.insert(merged.key.scalar).second) continue;
        entries.push_back(std::move(merged));
      }
    }
  }
  node.entries = std::move(entries);
}

tl::unexpected<Diagnostic> error(const std::string& file, Mark at, std::string message) {
  return tl::unexpected(make_diagnostic(file, at.line, at.column, message));
}

}  // namespace

tl::expected<Node, Diagnostic> parse_document(std::string_view text, const std::string& file) {
  TextBuffer buffer(text);
  std::istream stream(&buffer);
  Node root;
  try {
    YAML::Parser parser(stream);
    Builder builder;
    if (!parser.HandleNextDocument(builder)) return root;  // no document: empty
    root = builder.take_root();
    SecondDocument second;
    parser.HandleNextDocument(second);
  } catch (const Refusal& refusal) {
    return error(file, refusal.at, refusal.message);
  } catch (const YAML::DeepRecursion& e) {
    // yaml-cpp's own guard (2000 levels), for nesting that produces no node event first.
    return error(
        file, to_mark(e.mark),
        "nested deeper than " + std::to_string(kMaxDocumentDepth) + " levels (the nesting limit)");
  } catch (const YAML::ParserException& e) {
    return error(file, to_mark(e.mark), "YAML syntax error: " + e.msg);
  } catch (const std::exception& e) {
    return error(file, Mark{1, 1}, std::string("cannot parse YAML: ") + e.what());
  }
  std::map<std::size_t, const Node*> anchors;
  expand_aliases(root, anchors);
  try {
    apply_merge_keys(root);
  } catch (const Refusal& refusal) {
    return error(file, refusal.at, refusal.message);
  }
  return root;
}

}  // namespace amf::config::detail
