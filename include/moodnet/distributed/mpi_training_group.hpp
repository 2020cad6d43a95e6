#pragma once
// train::TrainingGroup over MPI (data_parallel.hpp), for Trainer(config, out, &group): one process
// per rank, every rank the same flags, each rank's loader its shard of every global batch.
#include <vector>

#include "moodnet/distributed/data_parallel.hpp"
#include "moodnet/distributed/overlapped_gradients.hpp"
#include "moodnet/distributed/sync_batchnorm.hpp"
#include "moodnet/train/training_group.hpp"

namespace moodnet::distributed {

class MpiTrainingGroup final : public train::TrainingGroup {
 public:
  explicit MpiTrainingGroup(const MpiSession& mpi) : dp_(mpi), overlap_(mpi), bn_sync_(dp_) {}
  int rank() const override { return dp_.rank(); }
  int size() const override { return dp_.size(); }
  void broadcast_model(Model<float>& model) override {
    std::vector<BufferRef<float>> buffers;
    for (auto& b : model.named_buffers()) buffers.push_back(b.buffer);
    dp_.broadcast_parameters(model.arena(), buffers);
  }
  void average_gradients(TensorView<float> grads, std::int64_t local, std::int64_t global) override {
    dp_.average_gradients(grads, local, global);
  }
  graph::BackwardObserver<float>* start_gradient_average(TensorView<float> grads, std::int64_t local,
                                                         std::int64_t global) override {
    overlap_.begin(grads, local, global);
    return &overlap_;
  }
  void finish_gradient_average() override { overlap_.finish(); }
  void sum(double* v, int n) override { dp_.sum(v, n); }
  void check_same(const std::string& what, const std::string& text) override { dp_.check_same(what, text); }
  kernels::BatchNormSync& batchnorm_sync() override { return bn_sync_; }
  double gradient_seconds() const override { return dp_.gradient_seconds() + overlap_.seconds(); }
  double sum_seconds() const override { return dp_.sum_seconds(); }

 private:
  DataParallel dp_;
  OverlappedGradientAverage<float> overlap_;
  MpiBatchNormSync bn_sync_;
};

}  // namespace moodnet::distributed
