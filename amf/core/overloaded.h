#pragma once

namespace amf {

// A visitor made of lambdas, one per alternative, for std::visit:
//   std::visit(Overloaded{[](const A&) {...}, [](const B&) {...}}, variant);
// With no catch-all lambda, a new alternative breaks the build until it is handled.
template <class... F>
struct Overloaded : F... {
  using F::operator()...;
};

}  // namespace amf
