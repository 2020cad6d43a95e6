#pragma once
// Data parallelism over MPI (the scheme of Horovod and PyTorch's DDP): every rank holds the whole
// model, takes a disjoint shard of each global batch, and the gradients are averaged before an
// optimizer step that is then the same on every rank.
//
//   global batch of n items          rank r of R takes shard_of(n, r, R) = [begin, end)
//   local loss  L_r = mean over the rank's items  (what CrossEntropyLoss computes)
//   average_gradients(grads, n_r, n):  grads <- sum_r (n_r / n) * dL_r/dw = d(mean over all n)/dw
//
// so R ranks on n/R items each reach the weights one process reaches on n items, up to the
// reassociation of the sum over ranks. Batchnorm uses each rank's own batch statistics (DDP's
// default) unless synchronised (sync_batchnorm.hpp). Needs MPI (mpi_session.hpp says how).
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <string>
#include <type_traits>
#include <vector>

#include "moodnet/core/error.hpp"
#include "moodnet/core/hash.hpp"
#include "moodnet/core/shard.hpp"
#include "moodnet/core/tensor.hpp"
#include "moodnet/distributed/mpi_session.hpp"
#include "moodnet/layers/layer.hpp"
#include "moodnet/layers/param_arena.hpp"

namespace moodnet::distributed {

template <class T>
inline MPI_Datatype mpi_type() {
  static_assert(std::is_same_v<T, float> || std::is_same_v<T, double>, "float or double");
  return std::is_same_v<T, float> ? MPI_FLOAT : MPI_DOUBLE;
}

namespace detail {
// Adds the wall time of its scope to `total` (the seconds a step spends in collectives).
class ScopeTimer {
 public:
  explicit ScopeTimer(double& total) : total_(total), start_(std::chrono::steady_clock::now()) {}
  ~ScopeTimer() { total_ += std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count(); }
  ScopeTimer(const ScopeTimer&) = delete;
  ScopeTimer& operator=(const ScopeTimer&) = delete;

 private:
  double& total_;
  std::chrono::steady_clock::time_point start_;
};

// The factor local_items / global_items that turns a rank's mean-loss gradient into its share of
// the global batch's (average_gradients and OverlappedGradientAverage); throws on a share that is
// not one.
template <class T>
T gradient_share(std::int64_t local_items, std::int64_t global_items) {
  MOODNET_CHECK(global_items > 0 && local_items >= 0 && local_items <= global_items,
                "average_gradients: local ", local_items, " of global ", global_items, " items");
  return static_cast<T>(static_cast<double>(local_items) / static_cast<double>(global_items));
}
}  // namespace detail

class DataParallel {
 public:
  // bucket_elems: the gradient is reduced in pieces of this many elements (bounded message size).
  // The same sums overlapped with the backward pass: overlapped_gradients.hpp.
  explicit DataParallel(const MpiSession& mpi, std::int64_t bucket_elems = std::int64_t(1) << 20)
      : mpi_(mpi), bucket_(bucket_elems) {
    MOODNET_CHECK(bucket_ >= 1, "DataParallel: bucket size must be >= 1, got ", bucket_);
  }

  int rank() const { return mpi_.rank(); }
  int size() const { return mpi_.size(); }
  Shard shard(std::int64_t global_items) const { return shard_of(global_items, rank(), size()); }

  // Rank 0's values replace every rank's: the parameters (arena values) and the buffers
  // (batchnorm running statistics and step counters), so every rank starts from the same model.
  template <class T>
  void broadcast_parameters(const ParamArena<T>& arena, const std::vector<BufferRef<T>>& buffers) const {
    broadcast(arena.values.data(), arena.values.numel());
    for (const auto& b : buffers) {
      if (b.counter)
        mpi_check(MPI_Bcast(b.counter, 1, MPI_INT64_T, 0, mpi_.comm()), "MPI_Bcast (buffer counter)");
      else
        broadcast(b.values.data(), b.values.numel());
    }
  }

  // Any flat array of rank 0 to every rank (optimizer state on a resume, for example).
  template <class T>
  void broadcast(T* data, std::int64_t n) const {
    for (std::int64_t i = 0; i < n; i += bucket_) {
      const int count = static_cast<int>(std::min(bucket_, n - i));
      mpi_check(MPI_Bcast(data + i, count, mpi_type<T>(), 0, mpi_.comm()), "MPI_Bcast (parameters)");
    }
  }

  // grads <- sum over ranks of (local_items / global_items) * grads: the gradient of the mean loss
  // over the global batch when each rank's loss is the mean over its own local_items.
  template <class T>
  void average_gradients(TensorView<T> grads, std::int64_t local_items, std::int64_t global_items) const {
    const T scale = detail::gradient_share<T>(local_items, global_items);
    T* g = grads.data();
    const std::int64_t n = grads.numel();
    if (size() == 1) return;  // scale is 1: the one rank holds the whole batch
    for (std::int64_t i = 0; i < n; ++i) g[i] *= scale;
    const Timer t(gradient_seconds_);
    for (std::int64_t i = 0; i < n; i += bucket_) {
      const int count = static_cast<int>(std::min(bucket_, n - i));
      mpi_check(MPI_Allreduce(MPI_IN_PLACE, g + i, count, mpi_type<T>(), MPI_SUM, mpi_.comm()),
                "MPI_Allreduce (gradients)");
    }
  }

  // True on every rank when any rank passes true (a stop request, a time budget reached).
  bool any(bool flag) const {
    int v = flag ? 1 : 0;
    mpi_check(MPI_Allreduce(MPI_IN_PLACE, &v, 1, MPI_INT, MPI_MAX, mpi_.comm()), "MPI_Allreduce (flag)");
    return v != 0;
  }

  // v[0, n) summed over ranks, in place (loss sums, counts, confusion matrices).
  void sum(double* v, std::int64_t n) const {
    const Timer t(sum_seconds_);
    for (std::int64_t i = 0; i < n; i += bucket_) {
      const int count = static_cast<int>(std::min(bucket_, n - i));
      mpi_check(MPI_Allreduce(MPI_IN_PLACE, v + i, count, MPI_DOUBLE, MPI_SUM, mpi_.comm()), "MPI_Allreduce (sums)");
    }
  }

  // Wall time spent in the gradient allreduce and in sum() since construction (waits for the
  // slowest rank included: that is what a step loses to communication).
  double gradient_seconds() const { return gradient_seconds_; }
  double sum_seconds() const { return sum_seconds_; }

  // Throws on every rank (never only on some: no rank is left waiting in a collective) when `text`
  // differs between ranks: "<what> of rank R do not match rank 0's", R the first that differs.
  void check_same(const std::string& what, const std::string& text) const {
    std::uint64_t h = fnv1a(text);
    std::vector<std::uint64_t> all(static_cast<std::size_t>(size()));
    mpi_check(MPI_Allgather(&h, 1, MPI_UINT64_T, all.data(), 1, MPI_UINT64_T, mpi_.comm()), "MPI_Allgather");
    for (int r = 1; r < size(); ++r)
      MOODNET_CHECK(all[static_cast<std::size_t>(r)] == all[0], what, " of rank ", r, " do not match rank 0's (",
                    size(), " ranks): start every rank with the same flags and data");
  }

 private:
  using Timer = detail::ScopeTimer;

  const MpiSession& mpi_;
  std::int64_t bucket_;
  mutable double gradient_seconds_ = 0, sum_seconds_ = 0;
};

}  // namespace moodnet::distributed
