#pragma once
// core/: Tensor, Shape, Error, Rng, threads, GEMM maps.
#include "moodnet/core/duration.hpp"
#include "moodnet/core/error.hpp"
#include "moodnet/core/gemm.hpp"
#include "moodnet/core/parallel.hpp"
#include "moodnet/core/rng.hpp"
#include "moodnet/core/shape.hpp"
#include "moodnet/core/tensor.hpp"
#include "moodnet/core/version.hpp"
#include "moodnet/core/workspace.hpp"
