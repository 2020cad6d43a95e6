#pragma once
// What the trainer needs from data-parallel training, without MPI: the ranks of a group, rank 0's
// model to every rank, the gradients averaged, small sums and an agreement check. The MPI
// implementation is distributed/mpi_training_group.hpp; a single process passes no group.
#include <cstdint>
#include <string>

#include "moodnet/core/tensor.hpp"
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
  // v[0, n) summed over ranks, in place.
  virtual void sum(double* v, int n) = 0;
  // Throws on every rank when `text` differs between ranks ("<what> of rank R do not match rank 0's").
  virtual void check_same(const std::string& what, const std::string& text) = 0;
};

}  // namespace moodnet::train
