#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "config/document.h"
#include "config/loader.h"

// Internal to config/: typed, position-aware reading of the YAML tree. Every problem is
// recorded in a Diagnostics and reading goes on, so that one pass reports all of them.
namespace amf::config::detail {

// Bounds on numbers in the configuration ("put a limit on everything").
inline constexpr int kMaxCount = 1'000'000;        // counts, ranks, retries
inline constexpr int kMaxDurationMs = 86'400'000;  // 24 hours

// The last entry of a key list that also accepts (and ignores) every key starting with "x-".
inline constexpr std::string_view kExtensionKeys = "x-*";

// Collects the problems of one file.
class Diagnostics {
 public:
  explicit Diagnostics(std::string file) : file_(std::move(file)) {}

  // Records a problem. The message and file name are escaped (printable() in text.h), so a
  // message may quote user text as it is.
  void error(Mark at, std::string message);
  // Every problem reported, listed or not (see remember_positions).
  std::size_t count() const { return list_.size() + unlisted_; }

  // While on, the positions of the problems reported are remembered; from then on a problem at
  // a remembered position is counted but not listed again. Types are checked on their own
  // first, with this on, so that a bad value in a type is listed once and not once for each
  // instance that inherits it.
  void remember_positions(bool on) { remembering_ = on; }

  // All problems, sorted by position (stable, so equal positions keep their order).
  std::vector<Diagnostic> take();

 private:
  std::string file_;
  std::vector<Diagnostic> list_;
  bool remembering_ = false;
  std::set<std::pair<int, int>> remembered_;
  std::set<std::tuple<int, int, std::string>> listed_;
  std::size_t unlisted_ = 0;
};

// Reports every scalar of the document, key or value, that is not well-formed UTF-8 or holds a
// NUL character, at the scalar (once per position, however many aliases copy it). Every string
// the loader keeps ends up in a protobuf message (names, CSI attributes, commands in events),
// whose string fields must be UTF-8, or in a command line or environment, which end at a NUL.
void check_text(const Node& root, Diagnostics& diags);

// "'text'" for a scalar (shortened when long), "a mapping", "a sequence", "nothing".
std::string describe(const Node& node);

// "a, b, c".
std::string join(const std::vector<std::string_view>& words);

// The one candidate closest to `word` within edit distance 2, if there is exactly one.
std::optional<std::string_view> closest(std::string_view word,
                                        const std::vector<std::string_view>& candidates);

// Entity names: [A-Za-z0-9][A-Za-z0-9._-]*.
bool is_valid_name(std::string_view name);
inline constexpr std::string_view kNamePattern = "[A-Za-z0-9][A-Za-z0-9._-]*";

// Where to report a problem with `node` as the value of a key at `key_mark`: empty values
// (`key:` with nothing after it) carry the position of the next token, so use the key's.
Mark value_position(const Node& node, Mark key_mark);

// A scalar's text; reports "expected a string for <what>, got ..." otherwise.
std::optional<std::string> read_string(const Node& node, Mark at, std::string_view what,
                                       Diagnostics& diags);

// The longest name of each kind (config/README.md, "Names"), in characters (names are ASCII).
// Service groups, service units and components are shorter: amfd names per-component files
// after <sg>/<su>/<component> (see kMaxComponentIdLength).
struct NameKind {
  std::string_view plural;  // "service unit names"
  std::size_t max_length;
};
inline constexpr NameKind kClusterName{"cluster names", 64};
inline constexpr NameKind kNodeName{"node names", 64};
inline constexpr NameKind kApplicationName{"application names", 64};
inline constexpr NameKind kSgName{"service group names", 32};
inline constexpr NameKind kSuName{"service unit names", 32};
inline constexpr NameKind kComponentName{"component names", 32};
inline constexpr NameKind kSiName{"service instance names", 64};
inline constexpr NameKind kCsiName{"CSI names", 64};
inline constexpr NameKind kCsTypeName{"CS type names", 64};
inline constexpr NameKind kTypeName{"type names", 64};  // component and SG types

// A component's identifier <sg>/<su>/<component> names its log file (the id with '/' as '_',
// plus ".log") and, for a notified component, its sd_notify socket <runtime dir>/notify/<the
// same>.notify, whose whole path must fit sun_path (107 bytes). 64 leaves 28 bytes for the
// runtime directory (/run/amf is 8, /run/user/<uid>/amf at most 20).
inline constexpr std::size_t kMaxComponentIdLength = 64;

// A non-empty string matching kNamePattern and at most `kind.max_length` long; reports
// otherwise.
std::optional<std::string> read_name(const Node& node, Mark at, std::string_view what,
                                     NameKind kind, Diagnostics& diags);

// Reads one mapping of the schema. The constructor reports a value that is not a mapping,
// unknown keys (with the valid ones and a suggestion), duplicate keys and missing required
// keys; the getters report wrong types and out-of-range values and then return nullopt, so
// the caller keeps the default from the model's initialiser.
class MapReader {
 public:
  using Keys = std::initializer_list<std::string_view>;

  // `what` names the mapping in messages ("node", "service group"); when the mapping has a
  // scalar `name`, messages say "node 'node-1'". `at` is where to report a non-mapping value.
  // A key list may end in kExtensionKeys: then every key that starts with "x-" is valid and ignored
  // (a place for YAML anchors, as in docker-compose files).
  MapReader(const Node& node, Mark at, std::string_view what, Keys keys, Keys required,
            Diagnostics& diags)
      : MapReader(node, at, what, std::vector<std::string_view>(keys),
                  std::vector<std::string_view>(required), diags) {}
  MapReader(const Node& node, Mark at, std::string_view what,
            const std::vector<std::string_view>& keys,
            const std::vector<std::string_view>& required, Diagnostics& diags);

  bool is_mapping() const { return map_ != nullptr; }
  const std::string& label() const { return label_; }
  Mark mark() const { return at_; }
  Diagnostics& diags() const { return *diags_; }

  bool has(std::string_view key) const { return find(key) != nullptr; }
  // The value of `key`; nullptr when absent (or not a mapping).
  const Node* value(std::string_view key) const;
  // Position of the key itself; the mapping's position when absent.
  Mark key_mark(std::string_view key) const;
  // Position of the value (see value_position); the mapping's position when absent.
  Mark value_mark(std::string_view key) const;

  std::optional<std::string> string(std::string_view key) const;
  std::optional<std::string> name(std::string_view key, NameKind kind) const;
  std::optional<int> integer(std::string_view key, int min, int max) const;
  std::optional<bool> boolean(std::string_view key) const;
  // `<key>` holds positive milliseconds, at most kMaxDurationMs.
  std::optional<std::chrono::milliseconds> duration(std::string_view key) const;
  // The value when it is a sequence; nullptr (reported) when it is anything else.
  const Node* sequence(std::string_view key) const;
  // As sequence(), and reports "<label> needs at least one <item>" when it is empty.
  const Node* nonempty_sequence(std::string_view key, std::string_view item) const;
  // The value when it is a mapping; nullptr (reported) when it is anything else.
  const Node* mapping(std::string_view key) const;
  // A free-form mapping of scalar keys to scalar values (env, attributes). `key_problem`
  // returns what is wrong with a key, or nullopt when it is fine. nullopt when `key` is absent.
  using KeyCheck = std::function<std::optional<std::string>(const std::string&)>;
  std::optional<std::map<std::string, std::string>> string_map(std::string_view key,
                                                               const KeyCheck& key_problem) const;
  // As string_map, and a value may also be a sequence of scalars: one pair per value, in
  // order, and one pair with an empty value for `[]` (CSI attributes).
  std::optional<std::multimap<std::string, std::string>> string_lists(
      std::string_view key, const KeyCheck& key_problem) const;

 private:
  const MapEntry* find(std::string_view key) const;
  std::optional<std::multimap<std::string, std::string>> string_pairs(std::string_view key,
                                                                      const KeyCheck& key_problem,
                                                                      bool lists) const;
  // "'rank' in service unit 'su-a'".
  std::string key_label(std::string_view key) const;
  std::string unknown_key_message(const std::string& key,
                                  const std::vector<std::string_view>& keys) const;
  void check_keys(const std::vector<std::string_view>& keys,
                  const std::vector<std::string_view>& required) const;

  const Node* map_ = nullptr;
  Mark at_;
  std::string what_;
  std::string label_;
  Diagnostics* diags_;
};

// Checks that sibling names are unique and remembers where each was first seen.
class NameSet {
 public:
  // Duplicates are reported as "duplicate <what> 'x' in <scope>; first defined at line N"
  // (e.g. what "component name", scope "service unit 'su-a'"; scope may be empty).
  explicit NameSet(std::string what, std::string scope = "")
      : what_(std::move(what)), scope_(std::move(scope)) {}

  // Registers `name` at `at`; reports and returns false when it was already there.
  bool add(const std::string& name, Mark at, Diagnostics& diags);
  // Registers with an explanation used in later duplicate messages instead of "first defined
  // at line N" (e.g. "stamped by su_template at line 9").
  void add_with_origin(const std::string& name, std::string origin);
  bool contains(const std::string& name) const { return origins_.contains(name); }
  std::vector<std::string_view> names() const;

 private:
  std::string what_;
  std::string scope_;
  std::map<std::string, std::string, std::less<>> origins_;
};

}  // namespace amf::config::detail
