#pragma once
// Errors a user can cause (bad files, flags, shapes, checkpoints) throw moodnet::Error with a
// message that names the offending value. Internal invariants use MOODNET_ASSERT, which is a
// programming-error check (active unless NDEBUG) and never meant to fire on user input.
#include <cassert>
#include <sstream>
#include <stdexcept>
#include <string>
#include <utility>

namespace moodnet {

class Error : public std::runtime_error {
 public:
  // `what` is the message shown to the user: one line naming the value, nothing else.
  // `check` is the failed condition and where it sits ("`c == 3` at core/shape.hpp:42") for
  // MOODNET_CHECK, empty for fail(): kept for developers (a debug build's guarded_main prints it
  // as a note), never part of what().
  explicit Error(const std::string& what, std::string check = {})
      : std::runtime_error(what), check_(std::move(check)) {}
  const std::string& check() const noexcept { return check_; }

 private:
  std::string check_;
};

namespace detail {
// Concatenates any streamable values into one message: concat("C=", 3, " != ", 4) -> "C=3 != 4".
template <class... Args>
inline std::string concat(Args&&... args) {
  std::ostringstream os;
  (os << ... << std::forward<Args>(args));
  return os.str();
}
}  // namespace detail

// Throws moodnet::Error with the concatenated message.
template <class... Args>
[[noreturn]] inline void fail(Args&&... args) {
  throw Error(detail::concat(std::forward<Args>(args)...));
}

namespace detail {
// MOODNET_CHECK's failure path: the message as given, the condition and its place kept aside.
template <class... Args>
[[noreturn]] inline void check_failed(const char* cond, const char* file, int line, Args&&... args) {
  throw Error(concat(std::forward<Args>(args)...), concat("`", cond, "` at ", file, ":", line));
}
}  // namespace detail

}  // namespace moodnet

// MOODNET_CHECK(cond, "values", a, "..."): user-facing check, usable as a statement or expression. Throws
// moodnet::Error whose what() is exactly the concatenated message (so it must name the values: the user
// never sees `cond`); Error::check() holds "`cond` at file:line" for developers.
#define MOODNET_CHECK(cond, ...)                   \
  (static_cast<bool>(cond) ? static_cast<void>(0) \
                           : ::moodnet::detail::check_failed(#cond, __FILE__, __LINE__, __VA_ARGS__))

// MOODNET_ASSERT(cond): internal invariant; a failure is a bug in moodnet, not bad input.
#define MOODNET_ASSERT(cond) assert(cond)
