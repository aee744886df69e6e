#pragma once

#include <string>
#include <tl/expected.hpp>
#include <utility>

namespace amf {

// An expected failure: what went wrong, with context prepended on the way up
// ("loading config: demo.yaml:3:5: unknown key 'nmae'").
class Error {
 public:
  explicit Error(std::string message) : message_(std::move(message)) {}

  const std::string& message() const { return message_; }

  // Returns this error with `context` in front, separated by ": ".
  Error with_context(const std::string& context) const { return Error(context + ": " + message_); }

 private:
  std::string message_;
};

template <class T>
using Result = tl::expected<T, Error>;

inline tl::unexpected<Error> fail(std::string message) {
  return tl::unexpected<Error>(Error(std::move(message)));
}

}  // namespace amf
