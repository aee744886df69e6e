#pragma once

#include <string>
#include <string_view>
#include <vector>

// SA Forum distinguished names, as OpenSAF names its entities: safSu=SU1,safSg=AmfDemo,
// safApp=AmfDemo1. amf's identifiers are its own (SG/SU); amfctl and the importer read DNs.
namespace amf {

// One relative name: "safSu=SU1" is {safSu, SU1}.
struct Rdn {
  std::string key;
  std::string value;
};

// A DN's relative names, split at the commas that are not escaped with a backslash, escapes
// removed: "safSupportedCsType=safVersion=1\,safCSType=A,safComp=C" gives
// {safSupportedCsType, "safVersion=1,safCSType=A"} and {safComp, C}. An RDN without '=' has
// that text as its key and an empty value.
inline std::vector<Rdn> split_dn(std::string_view dn) {
  std::vector<Rdn> rdns;
  std::string part;
  std::size_t separator = std::string::npos;  // the first unescaped '=' of the part
  auto finish = [&] {
    if (separator == std::string::npos) {
      rdns.push_back({part, ""});
    } else {
      rdns.push_back({part.substr(0, separator), part.substr(separator + 1)});
    }
    part.clear();
    separator = std::string::npos;
  };
  for (std::size_t i = 0; i < dn.size(); ++i) {
    if (dn[i] == '\\' && i + 1 < dn.size()) {
      part += dn[++i];
    } else if (dn[i] == ',') {
      finish();
    } else {
      if (dn[i] == '=' && separator == std::string::npos) separator = part.size();
      part += dn[i];
    }
  }
  if (!part.empty() || !rdns.empty()) finish();
  return rdns;
}

// Whether an entity name given to amfctl is a DN rather than an amf id: it starts with an SA
// Forum attribute ("saf...=").
inline bool looks_like_dn(std::string_view name) {
  return name.starts_with("saf") && name.find('=') != std::string_view::npos;
}

}  // namespace amf
