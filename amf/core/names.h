#pragma once

#include <array>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace amf {

// An enum's names as users spell them (configuration, amfctl, logs): a constexpr table of
// {name, value} pairs, read both ways by the functions below.
template <class E, std::size_t N>
using NameTable = std::array<std::pair<std::string_view, E>, N>;

// The value's name, or "?" for a value the table does not hold.
template <class E, std::size_t N>
constexpr std::string_view name_in(const NameTable<E, N>& table, E value) {
  for (const auto& [name, v] : table) {
    if (v == value) return name;
  }
  return "?";
}

template <class E, std::size_t N>
constexpr std::optional<E> value_in(const NameTable<E, N>& table, std::string_view text) {
  for (const auto& [name, v] : table) {
    if (name == text) return v;
  }
  return std::nullopt;
}

// "a, b, c": every name, for a message about a name the table does not hold.
template <class E, std::size_t N>
std::string names_in(const NameTable<E, N>& table) {
  std::string out;
  for (const auto& [name, v] : table) out += (out.empty() ? "" : ", ") + std::string(name);
  return out;
}

}  // namespace amf
