#pragma once
// Gradient averaging overlapped with the backward pass (PyTorch DDP's buckets): the same sums as
// DataParallel::average_gradients, started while the backward pass is still running.
//
//   gradient arena [0, n), in buckets b = [b*B, min(n, (b+1)*B))   (B = bucket_elems)
//   pending[b] = number of (step, parameter-gradient view) pairs of the plan that overlap bucket b
//   after step s's backward:  pending[b] -= 1 for each of s's views over b
//   bucket b is scaled by local/global and handed to MPI_Iallreduce (in place, MPI_SUM) once
//   pending[b] == 0 and every bucket above it has been started
//
// Buckets start in one fixed order, from the last to the first, whatever each rank's plan does:
// MPI needs every rank to start its collectives in the same order, and the backward pass finishes
// the arena's tail (the last layers') first anyway. Between steps MPI_Testall lets the library move
// the pending reductions on (Open MPI has no progress thread of its own by default); finish() starts
// what is left and waits. Each element is reduced by exactly one collective, as in the blocking
// path: on 2 ranks the sums are the same bits (a + b); on more, the library's algorithm for
// non-blocking collectives may associate them differently (within the float reassociation the
// equivalence tests allow). Needs MPI (mpi_session.hpp says how).
#include <mpi.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "moodnet/core/error.hpp"
#include "moodnet/core/tensor.hpp"
#include "moodnet/distributed/data_parallel.hpp"
#include "moodnet/distributed/mpi_session.hpp"
#include "moodnet/graph/backward_observer.hpp"
#include "moodnet/graph/plan.hpp"

namespace moodnet::distributed {

template <class T>
class OverlappedGradientAverage final : public graph::BackwardObserver<T> {
 public:
  // 2^18 elements (1 MiB of floats): 5 buckets for CustomNet-48 w 32 or ResNet-10-48 w 32, 4 for
  // MobileNet-V1-48 alpha 0.5: small enough that the first starts early in the pass, large enough
  // that each is one efficient message.
  static constexpr std::int64_t kDefaultBucketElems = std::int64_t(1) << 18;

  explicit OverlappedGradientAverage(const MpiSession& mpi, std::int64_t bucket_elems = kDefaultBucketElems)
      : mpi_(mpi), bucket_(bucket_elems) {
    MOODNET_CHECK(bucket_ >= 1, "OverlappedGradientAverage: bucket size must be >= 1, got ", bucket_);
  }
  OverlappedGradientAverage(const OverlappedGradientAverage&) = delete;
  OverlappedGradientAverage& operator=(const OverlappedGradientAverage&) = delete;
  // A pass abandoned by an exception leaves its started requests as they are: waiting here could
  // wait for a rank that failed; the failing rank ends the job (MpiSession::abort_all).
  ~OverlappedGradientAverage() override = default;

  // Before model.backward(dy, this): the whole gradient arena, and this rank's share of the batch
  // (its loss is the mean over local_items of the global batch's global_items).
  void begin(TensorView<T> grads, std::int64_t local_items, std::int64_t global_items) {
    const T scale = detail::gradient_share<T>(local_items, global_items);
    MOODNET_CHECK(!active_, "OverlappedGradientAverage: begin() again before the last pass's finish()");
    grads_ = grads;
    scale_ = scale;
    const std::int64_t n = grads.numel();
    buckets_ = n == 0 ? 0 : static_cast<int>((n + bucket_ - 1) / bucket_);
    pending_.assign(static_cast<std::size_t>(buckets_), 0);
    next_ = buckets_ - 1;
    overlapped_ = 0;
    requests_.reserve(static_cast<std::size_t>(buckets_));
    active_ = true;
  }

  void backward_started(const graph::Plan<T>& plan) override {
    if (!active_) return;
    std::fill(pending_.begin(), pending_.end(), 0);
    steps_left_ = 0;
    for (const auto& s : plan.steps()) {
      const std::vector<TensorView<T>> grads = s->parameter_gradients();
      for (const TensorView<T>& g : grads) for_buckets(g, [&](std::size_t b) { ++pending_[b]; });
      steps_left_ += grads.empty() ? 0 : 1;
    }
    start_ready();  // buckets no step writes (none in a model's own plan)
  }

  void step_done(const graph::Step<T>& step) override {
    if (!active_) return;
    const std::vector<TensorView<T>> grads = step.parameter_gradients();
    for (const TensorView<T>& g : grads) for_buckets(g, [&](std::size_t b) { --pending_[b]; });
    steps_left_ -= grads.empty() ? 0 : 1;
    start_ready();
    if (!requests_.empty()) {
      const Timer t(seconds_);
      int done = 0;
      mpi_check(MPI_Testall(static_cast<int>(requests_.size()), requests_.data(), &done, MPI_STATUSES_IGNORE),
                "MPI_Testall (gradients)");
    }
  }

  // After model.backward: starts the buckets not yet started (in the same order) and waits for
  // every one; the arena then holds the average over the ranks.
  void finish() {
    if (!active_) return;
    active_ = false;
    while (next_ >= 0) start(next_--);
    const Timer t(seconds_);
    if (!requests_.empty())
      mpi_check(MPI_Waitall(static_cast<int>(requests_.size()), requests_.data(), MPI_STATUSES_IGNORE),
                "MPI_Waitall (gradients)");
    requests_.clear();
  }

  // Wall time inside MPI calls (starting, testing, the final wait) since construction: what a step
  // still loses to communication.
  double seconds() const { return seconds_; }
  // Of the last pass: the buckets, and how many of them started while steps with parameter
  // gradients were still to run (the communication that overlapped computation).
  int buckets() const { return buckets_; }
  int overlapped() const { return overlapped_; }

 private:
  using Timer = detail::ScopeTimer;

  // Calls f(b) for each bucket b that the view g overlaps; g must lie inside the arena.
  template <class F>
  void for_buckets(const TensorView<T>& g, F&& f) const {
    if (g.numel() == 0) return;
    const std::int64_t begin = g.data() - grads_.data();
    MOODNET_CHECK(begin >= 0 && begin + g.numel() <= grads_.numel(),
                  "OverlappedGradientAverage: a step's parameter gradient lies outside the model's gradient arena");
    const std::int64_t last = begin + g.numel() - 1;
    for (std::int64_t b = begin / bucket_; b <= last / bucket_; ++b) f(static_cast<std::size_t>(b));
  }

  // Starts, from the top, every bucket whose steps are all done.
  void start_ready() {
    while (next_ >= 0 && pending_[static_cast<std::size_t>(next_)] == 0) {
      start(next_--);
      overlapped_ += steps_left_ > 0 ? 1 : 0;
    }
  }

  void start(int b) {
    if (mpi_.size() == 1) return;  // scale is 1: the one rank holds the whole batch
    T* g = grads_.data() + static_cast<std::int64_t>(b) * bucket_;
    const std::int64_t count = std::min(bucket_, grads_.numel() - static_cast<std::int64_t>(b) * bucket_);
    for (std::int64_t i = 0; i < count; ++i) g[i] *= scale_;
    const Timer t(seconds_);
    requests_.push_back(MPI_REQUEST_NULL);
    mpi_check(MPI_Iallreduce(MPI_IN_PLACE, g, static_cast<int>(count), mpi_type<T>(), MPI_SUM, mpi_.comm(),
                             &requests_.back()),
              "MPI_Iallreduce (gradients)");
  }

  const MpiSession& mpi_;
  std::int64_t bucket_;
  TensorView<T> grads_;
  T scale_ = 1;
  int buckets_ = 0, next_ = -1, overlapped_ = 0, steps_left_ = 0;
  bool active_ = false;
  std::vector<int> pending_;
  std::vector<MPI_Request> requests_;
  double seconds_ = 0;
};

}  // namespace moodnet::distributed
