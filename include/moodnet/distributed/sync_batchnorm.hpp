#pragma once
// Synchronised batchnorm over MPI: the hook of kernels/batchnorm2d.hpp (kernels::BatchNormSync) as
// one MPI_Allreduce of doubles, so every BatchNorm2d of a rank's model normalises with the
// statistics of the global batch, and its backward uses the global sums, as one process on the
// whole batch would (the math: kernels/batchnorm2d.hpp). Per BatchNorm2d of C channels and step:
// 2C+1 doubles reduced in the forward, 2C in the backward (two small latency-bound messages).
//
//   MpiBatchNormSync sync(dp);
//   set_batchnorm_sync(model.network(), &sync);   // layers/batchnorm2d.hpp; nullptr turns it off
//
// Every rank must call it the same way (the same network, every rank training every step), and
// start from the same batchnorm buffers (DataParallel::broadcast_parameters): the forward shifts
// its sums by the running mean, which must be the same everywhere. Needs MPI (mpi_session.hpp).
#include <cstdint>

#include "moodnet/distributed/data_parallel.hpp"
#include "moodnet/kernels/batchnorm2d.hpp"

namespace moodnet::distributed {

class MpiBatchNormSync final : public kernels::BatchNormSync {
 public:
  explicit MpiBatchNormSync(const DataParallel& dp) : dp_(dp) {}
  void sum(double* v, std::int64_t n) override { dp_.sum(v, n); }

 private:
  const DataParallel& dp_;
};

}  // namespace moodnet::distributed
