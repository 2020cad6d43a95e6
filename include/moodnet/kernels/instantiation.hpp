#pragma once
// Compiling the heavy kernels once instead of in every translation unit (optional; header-only stays
// the default).
//
// Each heavy kernel header (convolutions, Winograd, depthwise, linear, batchnorm, groupnorm, the
// optimizer updates) ends with MOODNET_KERNEL_INSTANTIATIONS(LIST), LIST(prefix, T) being a macro
// that spells `prefix template <signature with T>;` for each of its entry points. This header gives
// it one of three meanings:
//   - nothing defined (the default): nothing. Every translation unit instantiates what it uses, as
//     for any header-only library.
//   - MOODNET_COMPILED_KERNELS: `extern template` declarations for float and double, so the
//     translation unit only calls the entry points and its compiler never sees their bodies (nor
//     the GEMMs, AMX, Winograd and direct-convolution code behind them). In examples/predict.cpp
//     the kernels were 43% of the machine code (nm sizes) and its g++ -O3 compile went from 130 s
//     to 50 s (2026-12-03, AMX Xeon, 2-thread fp32 peak 266 GFLOP/s).
//   - MOODNET_INSTANTIATE_KERNELS=<type> (float or double): the explicit instantiation definitions
//     for that type. Exactly one translation unit of the program per type does this, by including
//     moodnet/kernels/instantiate.hpp; see there.
// The entry points these lists name are templates declared without `inline`: GCC and Clang honour
// `extern template` for those, while an inline one would still be instantiated to be inlined.
// Everything else in the kernels (the small element-wise kernels, the TensorView overloads, the
// helpers) stays inline and header-only in every mode. The machine code is the same in all three
// modes when the flags are the same (the instantiating translation unit is compiled with the
// program's flags: -march=native there means -march=native here).

#if defined(MOODNET_INSTANTIATE_KERNELS)
#define MOODNET_KERNEL_INSTANTIATIONS(list) list(, MOODNET_INSTANTIATE_KERNELS)
#elif defined(MOODNET_COMPILED_KERNELS)
#define MOODNET_KERNEL_INSTANTIATIONS(list) list(extern, float) list(extern, double)
#else
#define MOODNET_KERNEL_INSTANTIATIONS(list)
#endif
