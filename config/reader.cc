#include "config/reader.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdio>
#include <set>
#include <utility>

#include "config/text.h"

namespace amf::config::detail {
namespace {

constexpr std::size_t kMaxQuotedChars = 40;

// Optimal string alignment distance (Levenshtein plus adjacent transpositions), ignoring case:
// "nmae" is one edit from "name".
std::size_t edit_distance(std::string_view a, std::string_view b) {
  auto lower = [](char c) {
    return static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  };
  std::vector<std::vector<std::size_t>> d(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = 0; i <= a.size(); ++i) d[i][0] = i;
  for (std::size_t j = 0; j <= b.size(); ++j) d[0][j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t cost = lower(a[i - 1]) == lower(b[j - 1]) ? 0 : 1;
      d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost});
      if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
          lower(a[i - 2]) == lower(b[j - 1])) {
        d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    }
  }
  return d[a.size()][b.size()];
}

bool is_name_start(char c) { return std::isalnum(static_cast<unsigned char>(c)) != 0; }
bool is_name_char(char c) { return is_name_start(c) || c == '.' || c == '_' || c == '-'; }

std::string quoted(std::string_view text) {
  if (text.size() <= kMaxQuotedChars) return "'" + std::string(text) + "'";
  // Cut before a character, not inside one (the message would show its first bytes as \xNN).
  std::size_t cut = kMaxQuotedChars;
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return "'" + std::string(text.substr(0, cut)) + "...'";
}

void check_scalars(const Node& node, std::set<std::pair<int, int>>& seen, Diagnostics& diags) {
  switch (node.kind) {
    case Node::Kind::kNull:
      return;
    case Node::Kind::kScalar:
      break;
    case Node::Kind::kSequence:
      for (const Node& item : node.items) check_scalars(item, seen, diags);
      return;
    case Node::Kind::kMapping:
      for (const MapEntry& entry : node.entries) {
        check_scalars(entry.key, seen, diags);
        check_scalars(entry.value, seen, diags);
      }
      return;
  }
  const std::string& text = node.scalar;
  std::optional<std::size_t> bad = first_invalid_utf8(text);
  std::size_t nul = text.find('\0');
  if (!bad && nul == std::string::npos) return;
  if (!seen.emplace(node.mark.line, node.mark.column).second) return;  // a copy made by an alias
  if (bad) {
    char byte[8];
    std::snprintf(byte, sizeof byte, "0x%02x", static_cast<unsigned char>(text[*bad]));
    diags.error(node.mark,
                "string " + quoted(text) + " is not valid UTF-8 (byte " + byte + " at offset " +
                    std::to_string(*bad) +
                    "); amf carries strings in protobuf messages, which take UTF-8 only");
  } else {
    diags.error(node.mark, "string " + quoted(text) + " contains a NUL character (at offset " +
                               std::to_string(nul) +
                               "), which commands, arguments and environment variables cannot "
                               "carry");
  }
}

}  // namespace

void check_text(const Node& root, Diagnostics& diags) {
  std::set<std::pair<int, int>> seen;
  check_scalars(root, seen, diags);
}

void Diagnostics::error(Mark at, std::string message) {
  const std::pair<int, int> position(at.line, at.column);
  if (remembering_) {
    remembered_.insert(position);
  } else if (remembered_.contains(position)) {
    ++unlisted_;
    return;
  }
  // The same problem at the same place, met again through another instance of a type or
  // another SU stamped from one template: listed once.
  if (!listed_.emplace(at.line, at.column, message).second) {
    ++unlisted_;
    return;
  }
  list_.push_back(make_diagnostic(file_, at.line, at.column, message));
}

std::vector<Diagnostic> Diagnostics::take() {
  std::stable_sort(list_.begin(), list_.end(), [](const Diagnostic& a, const Diagnostic& b) {
    return std::pair(a.line, a.column) < std::pair(b.line, b.column);
  });
  return std::exchange(list_, {});
}

std::string describe(const Node& node) {
  switch (node.kind) {
    case Node::Kind::kNull:
      return "nothing";
    case Node::Kind::kScalar:
      return quoted(node.scalar);
    case Node::Kind::kSequence:
      return "a sequence";
    case Node::Kind::kMapping:
      return "a mapping";
  }
  return "?";
}

std::string join(const std::vector<std::string_view>& words) {
  std::string out;
  for (std::string_view word : words) {
    if (!out.empty()) out += ", ";
    out += word;
  }
  return out;
}

std::optional<std::string_view> closest(std::string_view word,
                                        const std::vector<std::string_view>& candidates) {
  constexpr std::size_t kMaxDistance = 2;
  std::optional<std::string_view> best;
  std::size_t best_distance = kMaxDistance + 1;
  bool tie = false;
  for (std::string_view candidate : candidates) {
    std::size_t distance = edit_distance(word, candidate);
    if (distance < best_distance) {
      best = candidate;
      best_distance = distance;
      tie = false;
    } else if (distance == best_distance) {
      tie = true;
    }
  }
  if (tie) return std::nullopt;
  return best;
}

bool is_valid_name(std::string_view name) {
  return !name.empty() && is_name_start(name.front()) &&
         std::all_of(name.begin(), name.end(), is_name_char);
}

Mark value_position(const Node& node, Mark key_mark) {
  return node.is_null() ? key_mark : node.mark;
}

std::optional<std::string> read_string(const Node& node, Mark at, std::string_view what,
                                       Diagnostics& diags) {
  if (node.is_scalar()) return node.scalar;
  diags.error(at, "expected a string for " + std::string(what) + ", got " + describe(node));
  return std::nullopt;
}

std::optional<std::string> read_name(const Node& node, Mark at, std::string_view what,
                                     NameKind kind, Diagnostics& diags) {
  std::optional<std::string> text = read_string(node, at, what, diags);
  if (!text) return std::nullopt;
  if (text->empty()) {
    diags.error(at, std::string(what) + " must not be empty");
    return std::nullopt;
  }
  if (!is_valid_name(*text)) {
    diags.error(at, "invalid name " + quoted(*text) + " for " + std::string(what) +
                        ": names must match " + std::string(kNamePattern) + " (no '/' or spaces)");
    return std::nullopt;
  }
  if (text->size() > kind.max_length) {
    diags.error(at, std::string(what) + " is " + std::to_string(text->size()) +
                        " characters long; " + std::string(kind.plural) + " are at most " +
                        std::to_string(kind.max_length) + " characters");
    return std::nullopt;
  }
  return text;
}

MapReader::MapReader(const Node& node, Mark at, std::string_view what,
                     const std::vector<std::string_view>& keys,
                     const std::vector<std::string_view>& required, Diagnostics& diags)
    : at_(at), what_(what), label_(what), diags_(&diags) {
  if (!node.is_mapping()) {
    diags.error(at, "expected a mapping for " + what_ + ", got " + describe(node));
    return;
  }
  map_ = &node;
  at_ = node.mark;
  bool has_name_key = std::find(keys.begin(), keys.end(), "name") != keys.end();
  if (const Node* name = value("name"); has_name_key && name != nullptr && name->is_scalar()) {
    label_ = what_ + " " + quoted(name->scalar);
  }
  check_keys(keys, required);
}

void MapReader::check_keys(const std::vector<std::string_view>& keys,
                           const std::vector<std::string_view>& required) const {
  std::map<std::string, int, std::less<>> first_line;
  for (const MapEntry& entry : map_->entries) {
    if (!entry.key.is_scalar()) {
      diags_->error(entry.key.mark,
                    "expected a scalar key in " + label_ + ", got " + describe(entry.key));
      continue;
    }
    const std::string& key = entry.key.scalar;
    if (key.starts_with("x-") && !keys.empty() && keys.back() == kExtensionKeys) continue;
    if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
      diags_->error(entry.key.mark, unknown_key_message(key, keys));
      continue;
    }
    auto [it, inserted] = first_line.emplace(key, entry.key.mark.line);
    if (!inserted) {
      diags_->error(entry.key.mark, "duplicate key " + quoted(key) + " in " + label_ +
                                        "; first given at line " + std::to_string(it->second));
    }
  }
  for (std::string_view key : required) {
    if (!first_line.contains(key)) {
      diags_->error(at_, label_ + " is missing required key '" + std::string(key) + "'");
    }
  }
}

std::string MapReader::unknown_key_message(const std::string& key,
                                           const std::vector<std::string_view>& keys) const {
  std::string message =
      "unknown key " + quoted(key) + " in " + label_ + "; valid keys: " + join(keys);
  std::vector<std::string_view> names = keys;  // the keys that can be suggested
  std::erase(names, kExtensionKeys);
  if (auto suggestion = closest(key, names)) {
    message += "; did you mean '" + std::string(*suggestion) + "'?";
  } else if (std::find(keys.begin(), keys.end(), key + "_ms") != keys.end()) {
    message += "; did you mean '" + key + "_ms'? (durations are in milliseconds)";
  }
  return message;
}

const MapEntry* MapReader::find(std::string_view key) const {
  if (map_ == nullptr) return nullptr;
  for (const MapEntry& entry : map_->entries) {
    if (entry.key.is_scalar() && entry.key.scalar == key) return &entry;
  }
  return nullptr;
}

const Node* MapReader::value(std::string_view key) const {
  const MapEntry* entry = find(key);
  return entry != nullptr ? &entry->value : nullptr;
}

Mark MapReader::key_mark(std::string_view key) const {
  const MapEntry* entry = find(key);
  return entry != nullptr ? entry->key.mark : at_;
}

Mark MapReader::value_mark(std::string_view key) const {
  const MapEntry* entry = find(key);
  return entry != nullptr ? value_position(entry->value, entry->key.mark) : at_;
}

std::string MapReader::key_label(std::string_view key) const {
  return "'" + std::string(key) + "' in " + label_;
}

std::optional<std::string> MapReader::string(std::string_view key) const {
  const Node* node = value(key);
  if (node == nullptr) return std::nullopt;
  return read_string(*node, value_mark(key), key_label(key), *diags_);
}

std::optional<std::string> MapReader::name(std::string_view key, NameKind kind) const {
  const Node* node = value(key);
  if (node == nullptr) return std::nullopt;
  return read_name(*node, value_mark(key), key_label(key), kind, *diags_);
}

std::optional<int> MapReader::integer(std::string_view key, int min, int max) const {
  const Node* node = value(key);
  if (node == nullptr) return std::nullopt;
  long long number = 0;
  const std::string& text = node->scalar;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (!node->is_scalar() || text.empty() || ec == std::errc::invalid_argument ||
      end != text.data() + text.size()) {
    diags_->error(value_mark(key),
                  "expected an integer for " + key_label(key) + ", got " + describe(*node));
    return std::nullopt;
  }
  if (ec == std::errc::result_out_of_range || number < min || number > max) {
    diags_->error(value_mark(key), key_label(key) + " must be between " + std::to_string(min) +
                                       " and " + std::to_string(max) + ", got " + text);
    return std::nullopt;
  }
  return static_cast<int>(number);
}

std::optional<bool> MapReader::boolean(std::string_view key) const {
  const Node* node = value(key);
  if (node == nullptr) return std::nullopt;
  if (node->is_scalar()) {
    const std::string& text = node->scalar;
    if (text == "true" || text == "True" || text == "TRUE") return true;
    if (text == "false" || text == "False" || text == "FALSE") return false;
  }
  diags_->error(value_mark(key), "expected a boolean (true or false) for " + key_label(key) +
                                     ", got " + describe(*node));
  return std::nullopt;
}

std::optional<std::chrono::milliseconds> MapReader::duration(std::string_view key) const {
  const Node* node = value(key);
  if (node == nullptr) return std::nullopt;
  long long number = 0;
  const std::string& text = node->scalar;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  bool is_integer = node->is_scalar() && !text.empty() && ec != std::errc::invalid_argument &&
                    end == text.data() + text.size();
  if (!is_integer) {
    diags_->error(value_mark(key), "expected an integer (milliseconds) for " + key_label(key) +
                                       ", got " + describe(*node));
    return std::nullopt;
  }
  if (ec == std::errc::result_out_of_range || number <= 0 || number > kMaxDurationMs) {
    diags_->error(value_mark(key), key_label(key) +
                                       " must be a positive number of milliseconds, at most " +
                                       std::to_string(kMaxDurationMs) + " (24 h), got " + text);
    return std::nullopt;
  }
  return std::chrono::milliseconds(number);
}

const Node* MapReader::sequence(std::string_view key) const {
  const Node* node = value(key);
  if (node == nullptr) return nullptr;
  if (node->is_sequence()) return node;
  std::string message = "expected a sequence for " + key_label(key) + ", got " + describe(*node);
  if (node->is_null()) message += " (write [] for an empty list)";
  diags_->error(value_mark(key), std::move(message));
  return nullptr;
}

const Node* MapReader::nonempty_sequence(std::string_view key, std::string_view item) const {
  const Node* node = sequence(key);
  if (node == nullptr || !node->items.empty()) return node;
  diags_->error(value_mark(key), label_ + " needs at least one " + std::string(item) + " in '" +
                                     std::string(key) + "'");
  return nullptr;
}

const Node* MapReader::mapping(std::string_view key) const {
  const Node* node = value(key);
  if (node == nullptr || node->is_mapping()) return node;
  std::string message = "expected a mapping for " + key_label(key) + ", got " + describe(*node);
  if (node->is_null()) message += " (write {} for an empty mapping)";
  diags_->error(value_mark(key), std::move(message));
  return nullptr;
}

std::optional<std::map<std::string, std::string>> MapReader::string_map(
    std::string_view key, const KeyCheck& key_problem) const {
  std::optional<std::multimap<std::string, std::string>> pairs =
      string_pairs(key, key_problem, /*lists=*/false);
  if (!pairs) return std::nullopt;
  return std::map<std::string, std::string>(pairs->begin(), pairs->end());
}

std::optional<std::multimap<std::string, std::string>> MapReader::string_lists(
    std::string_view key, const KeyCheck& key_problem) const {
  return string_pairs(key, key_problem, /*lists=*/true);
}

std::optional<std::multimap<std::string, std::string>> MapReader::string_pairs(
    std::string_view key, const KeyCheck& key_problem, bool lists) const {
  const Node* node = mapping(key);
  if (node == nullptr) return std::nullopt;
  std::multimap<std::string, std::string> out;
  std::map<std::string, int> first_line;
  for (const MapEntry& entry : node->entries) {
    if (!entry.key.is_scalar() || entry.key.scalar.empty()) {
      diags_->error(entry.key.mark, "expected a non-empty scalar key in " + key_label(key) +
                                        ", got " + describe(entry.key));
      continue;
    }
    const std::string& name = entry.key.scalar;
    if (auto problem = key_problem(name)) {
      diags_->error(entry.key.mark, key_label(key) + ": " + *problem);
      continue;
    }
    if (auto [it, inserted] = first_line.emplace(name, entry.key.mark.line); !inserted) {
      diags_->error(entry.key.mark, "duplicate key " + quoted(name) + " in " + key_label(key) +
                                        "; first given at line " + std::to_string(it->second));
      continue;
    }
    if (lists && entry.value.is_sequence()) {
      // Several values in order; none is one empty value (an attribute without a value).
      if (entry.value.items.empty()) out.emplace(name, "");
      for (const Node& item : entry.value.items) {
        if (item.is_scalar()) {
          out.emplace(name, item.scalar);
        } else {
          diags_->error(item.mark, "expected a scalar value in the list of " + quoted(name) +
                                       " in " + key_label(key) + ", got " + describe(item));
        }
      }
      continue;
    }
    if (!entry.value.is_scalar()) {
      std::string message =
          "expected a scalar value" + std::string(lists ? " or a list of them" : "") + " for " +
          quoted(name) + " in " + key_label(key) + ", got " + describe(entry.value);
      if (entry.value.is_null()) {
        message += lists ? " (write \"\" for an empty string, [] for no value)"
                         : " (write \"\" for an empty string)";
      }
      diags_->error(value_position(entry.value, entry.key.mark), std::move(message));
      continue;
    }
    out.emplace(name, entry.value.scalar);
  }
  return out;
}

bool NameSet::add(const std::string& name, Mark at, Diagnostics& diags) {
  auto [it, inserted] = origins_.emplace(name, "first defined at line " + std::to_string(at.line));
  if (inserted) return true;
  std::string where = scope_.empty() ? "" : " in " + scope_;
  diags.error(at, "duplicate " + what_ + " '" + name + "'" + where + "; " + it->second);
  return false;
}

void NameSet::add_with_origin(const std::string& name, std::string origin) {
  origins_.emplace(name, std::move(origin));
}

std::vector<std::string_view> NameSet::names() const {
  std::vector<std::string_view> out;
  for (const auto& [name, origin] : origins_) out.push_back(name);
  return out;
}

}  // namespace amf::config::detail
