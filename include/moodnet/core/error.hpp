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
  explicit Error(const std::string& what) : std::runtime_error(what) {}
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

}  // namespace moodnet

// MOODNET_CHECK(cond, "values", a, "..."): user-facing check, usable as a statement or expression. Throws moodnet::Error
// "<message> (check `cond` failed)" when cond is false. The message should name the values.
#define MOODNET_CHECK(cond, ...)                                                  \
  (static_cast<bool>(cond) ? static_cast<void>(0)                                 \
                           : ::moodnet::fail(__VA_ARGS__, " (check `" #cond "` failed)"))

// MOODNET_ASSERT(cond): internal invariant; a failure is a bug in moodnet, not bad input.
#define MOODNET_ASSERT(cond) assert(cond)
