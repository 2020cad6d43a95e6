#pragma once
// What the trainer needs from data-parallel training, without MPI: the ranks of a group, rank 0's
// model to every rank, the gradients averaged, small sums, an agreement check and the hook of
// synchronised batchnorm. The MPI implementation is distributed/mpi_training_group.hpp; a single
// process passes no group.
#include <cstdint>
#include <string>

#include "moodnet/core/tensor.hpp"
#include "moodnet/graph/backward_observer.hpp"
#include "moodnet/kernels/batchnorm2d.hpp"
#include "moodnet/models/model.hpp"

namespace moodnet::train {

class TrainingGroup {
 public:
  virtual ~TrainingGroup() = default;
  virtual int rank() const = 0;
  virtual int size() const = 0;
  // Rank 0's parameters and buffers replace every rank's.
  virtual void broadcast_model(Model<float>& model) = 0;
  // grads <- sum over ranks of (local / global) * grads (each rank's loss the mean over its local items).
  virtual void average_gradients(TensorView<float> grads, std::int64_t local, std::int64_t global) = 0;
  // The same average overlapped with the backward pass (--overlap-allreduce): pass the observer
  // this returns to model.backward, then call finish_gradient_average(); grads then hold what
  // average_gradients would have made.
  virtual graph::BackwardObserver<float>* start_gradient_average(TensorView<float> grads, std::int64_t local,
                                                                 std::int64_t global) = 0;
  virtual void finish_gradient_average() = 0;
  // v[0, n) summed over ranks, in place.
  virtual void sum(double* v, int n) = 0;
  // Throws on every rank when `text` differs between ranks ("<what> of rank R do not match rank 0's").
  virtual void check_same(const std::string& what, const std::string& text) = 0;
  // Sums over the ranks for synchronised batchnorm (--sync-bn; layers/batchnorm2d.hpp's set_batchnorm_sync).
  virtual kernels::BatchNormSync& batchnorm_sync() = 0;
  // Wall time spent in collectives so far: gradient averaging, and the small sums (batchnorm's included).
  virtual double gradient_seconds() const = 0;
  virtual double sum_seconds() const = 0;
};

}  // namespace moodnet::train
