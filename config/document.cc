#include "config/document.h"

#include <yaml-cpp/yaml.h>

#include <exception>
#include <string>
#include <vector>

#include "config/text.h"

namespace amf::config::detail {
namespace {

// yaml-cpp marks are 0-based; ours are 1-based.
Mark to_mark(const YAML::Mark& mark) { return Mark{mark.line + 1, mark.column + 1}; }

// Copies a yaml-cpp tree into ours; false when a bound of document.h is exceeded.
class Converter {
 public:
  bool convert(const YAML::Node& in, Node& out, int depth) {
    if (++nodes_ > kMaxDocumentNodes || depth > kMaxDocumentDepth) return false;
    out.mark = to_mark(in.Mark());
    switch (in.Type()) {
      case YAML::NodeType::Scalar:
        out.kind = Node::Kind::kScalar;
        out.scalar = in.Scalar();
        return true;
      case YAML::NodeType::Sequence:
        out.kind = Node::Kind::kSequence;
        for (const YAML::Node& item : in) {
          if (!convert(item, out.items.emplace_back(), depth + 1)) return false;
        }
        return true;
      case YAML::NodeType::Map:
        out.kind = Node::Kind::kMapping;
        for (auto it = in.begin(); it != in.end(); ++it) {
          MapEntry& entry = out.entries.emplace_back();
          if (!convert(it->first, entry.key, depth + 1)) return false;
          if (!convert(it->second, entry.value, depth + 1)) return false;
        }
        return true;
      case YAML::NodeType::Null:
      case YAML::NodeType::Undefined:
        out.kind = Node::Kind::kNull;
        return true;
    }
    return true;
  }

 private:
  std::size_t nodes_ = 0;
};

tl::unexpected<Diagnostic> error(const std::string& file, Mark at, std::string message) {
  return tl::unexpected(make_diagnostic(file, at.line, at.column, message));
}

}  // namespace

tl::expected<Node, Diagnostic> parse_document(std::string_view text, const std::string& file) {
  std::vector<YAML::Node> documents;
  try {
    documents = YAML::LoadAll(std::string(text));
  } catch (const YAML::ParserException& e) {
    return error(file, to_mark(e.mark), "YAML syntax error: " + e.msg);
  } catch (const std::exception& e) {
    return error(file, Mark{1, 1}, std::string("cannot parse YAML: ") + e.what());
  }
  Node root;
  if (documents.empty()) return root;
  if (documents.size() > 1) {
    return error(file, to_mark(documents[1].Mark()),
                 "a second YAML document starts here; the configuration must be one document");
  }
  try {
    if (!Converter().convert(documents[0], root, 0)) {
      return error(
          file, Mark{1, 1},
          "document too large or too deeply nested (limits: " + std::to_string(kMaxDocumentNodes) +
              " nodes after alias expansion, depth " + std::to_string(kMaxDocumentDepth) + ")");
    }
  } catch (const std::exception& e) {
    return error(file, Mark{1, 1}, std::string("cannot read YAML document: ") + e.what());
  }
  return root;
}

}  // namespace amf::config::detail
