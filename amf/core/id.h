#pragma once

#include <compare>
#include <functional>
#include <ostream>
#include <string>
#include <utility>

namespace amf {

// A strong identifier: a name that cannot be mixed up with another kind of name.
// Values are cluster-unique paths built by the configuration loader:
//   NodeId "node-1", SgId "counter", SuId "counter/su-1", CompId "counter/su-1/server",
//   SiId "counter/si-1", CsiId "counter/si-1/endpoint", AppId "counter".
template <class Tag>
class Id {
 public:
  Id() = default;
  explicit Id(std::string value) : value_(std::move(value)) {}

  const std::string& str() const { return value_; }
  bool empty() const { return value_.empty(); }

  friend auto operator<=>(const Id&, const Id&) = default;
  friend bool operator==(const Id&, const Id&) = default;
  friend std::ostream& operator<<(std::ostream& os, const Id& id) { return os << id.value_; }

 private:
  std::string value_;
};

using NodeId = Id<struct NodeTag>;
using AppId = Id<struct AppTag>;
using SgId = Id<struct SgTag>;
using SuId = Id<struct SuTag>;
using CompId = Id<struct CompTag>;
using SiId = Id<struct SiTag>;
using CsiId = Id<struct CsiTag>;

}  // namespace amf

template <class Tag>
struct std::hash<amf::Id<Tag>> {
  std::size_t operator()(const amf::Id<Tag>& id) const noexcept {
    return std::hash<std::string>{}(id.str());
  }
};
