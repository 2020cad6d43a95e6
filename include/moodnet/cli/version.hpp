#pragma once
// What `--version` prints: moodnet's version, the compiler, and which code paths this program was
// compiled with (they decide its speed, and whether its float results can differ in the last bits
// from another build's: docs/kernels.md).
//
// The version is MOODNET_VERSION_STRING (core/version.hpp). moodnet's own build also passes
// MOODNET_PROJECT_VERSION, the project() VERSION of CMakeLists.txt, and the two must agree: a
// release that bumps one and not the other does not compile.
#include <string>
#include <string_view>

#include "moodnet/core/version.hpp"

#if defined(MOODNET_PROJECT_VERSION)
static_assert(std::string_view(MOODNET_PROJECT_VERSION) == std::string_view(MOODNET_VERSION_STRING),
              "project(moodnet VERSION ...) in CMakeLists.txt and MOODNET_VERSION_STRING in "
              "include/moodnet/core/version.hpp differ: change both");
#endif

namespace moodnet::cli {

// "GCC 12.2.0", "Clang 16.0.6", ... (the compiler that compiled this translation unit).
inline std::string compiler_name() {
#if defined(__clang__)
  return "Clang " __clang_version__;
#elif defined(__GNUC__)
  return "GCC " __VERSION__;
#else
  return "an unknown compiler";
#endif
}

// "<program> (moodnet 0.1.0)" and one line each for the compiler, the AVX-512 paths, OpenMP and
// assertions.
inline std::string version_text(const std::string& program) {
  std::string s = program + " (moodnet " MOODNET_VERSION_STRING ")\n";
  s += "compiler: " + compiler_name() + "\n";
#if defined(__AVX512F__)
  s += "AVX-512 paths: compiled in (this program needs a CPU with AVX-512F)\n";
#else
  s += "AVX-512 paths: not compiled in (portable build: configure with MOODNET_NATIVE=ON on an AVX-512 CPU)\n";
#endif
#if defined(_OPENMP)
  s += "OpenMP: on (_OPENMP " + std::to_string(_OPENMP) + ")\n";
#else
  s += "OpenMP: off (one thread)\n";
#endif
#if defined(NDEBUG)
  s += "assertions: off (release build)\n";
#else
  s += "assertions: on (debug build)\n";
#endif
  return s;
}

}  // namespace moodnet::cli
