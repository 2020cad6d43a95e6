#pragma once
// The one translation unit that compiles the heavy kernels for one scalar type, for programs built
// with MOODNET_COMPILED_KERNELS (kernels/instantiation.hpp explains the modes). In your project:
//
//   // moodnet_kernels_float.cpp             // moodnet_kernels_double.cpp (only if you use double)
//   #define MOODNET_INSTANTIATE_KERNELS float   #define MOODNET_INSTANTIATE_KERNELS double
//   #include <moodnet/kernels/instantiate.hpp>  #include <moodnet/kernels/instantiate.hpp>
//
// and compile every other file with -DMOODNET_COMPILED_KERNELS, all with the same flags. moodnet's
// own tests, benchmarks and examples build this way (CMakeLists.txt, moodnet_compiled_kernels),
// except tests/kernels, which checks the header-only mode.
#if !defined(MOODNET_INSTANTIATE_KERNELS)
#error "define MOODNET_INSTANTIATE_KERNELS as float or double before including moodnet/kernels/instantiate.hpp"
#endif
#include "moodnet/kernels.hpp"
#include "moodnet/kernels/winograd.hpp"
