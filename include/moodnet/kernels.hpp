#pragma once
// kernels/: stateless forward/backward functions, templated on the scalar type (kernels/ref/ holds
// the naive oracles the tests compare against).
#include "moodnet/kernels/activations.hpp"
#include "moodnet/kernels/batchnorm2d.hpp"
#include "moodnet/kernels/conv2d.hpp"
#include "moodnet/kernels/cross_entropy.hpp"
#include "moodnet/kernels/depthwise_conv2d.hpp"
#include "moodnet/kernels/dropout.hpp"
#include "moodnet/kernels/gemm_bf16_amx.hpp"
#include "moodnet/kernels/gemm_rowmajor.hpp"
#include "moodnet/kernels/groupnorm.hpp"
#include "moodnet/kernels/im2col.hpp"
#include "moodnet/kernels/linear.hpp"
#include "moodnet/kernels/matmul_precision.hpp"
#include "moodnet/kernels/optimizer_updates.hpp"
#include "moodnet/kernels/pooling.hpp"
#include "moodnet/kernels/sgemm.hpp"
