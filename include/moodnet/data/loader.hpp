#pragma once
// BatchLoader: shuffled, augmented batches of a Dataset, prepared by a background thread.
//
//   BatchLoader loader(train, opts);            // train must outlive the loader
//   for (int epoch = start; epoch < epochs; ++epoch) {
//     loader.start_epoch(epoch);                // resume = start_epoch(saved epoch)
//     while (auto batch = loader.next()) {      // std::optional<Batch>
//       batch->images;  // float [B, C, H, W] (or [B, C, c, c] with crop = c), normalised, augmented
//       batch->labels;  // int32 [B]
//     }
//     loader.stats().wait_seconds;              // time next() blocked this epoch
//   }
//
// Determinism: the order of epoch e is a pure function of (seed, e) and sample j of the epoch is
// augmented from Rng(seed, stream(augment, e, j)) — never from a thread — so the same seed gives
// the same batches for any thread count, with or without the background thread, and a run resumed
// at an epoch boundary sees exactly the batches it would have seen. The alternating flip
// (FlipMode::alternate) is a pure function of (seed, epoch, dataset index) too.
//
// Threading: one worker thread per epoch fills a bounded queue of `prefetch` batches (double
// buffering with the default 2) while the trainer computes; the worker is serial, so it takes
// at most one core's slice away from the trainer's OpenMP loops. prefetch = 0 prepares each batch
// in next() on the calling thread (parallel over samples). The destructor (and start_epoch)
// cancel and join the worker, also when the consumer stopped early; an exception in the worker is
// rethrown by next().
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <mutex>
#include <numeric>
#include <optional>
#include <thread>
#include <vector>

#include "moodnet/core/error.hpp"
#include "moodnet/core/parallel.hpp"
#include "moodnet/core/shard.hpp"
#include "moodnet/core/rng.hpp"
#include "moodnet/core/tensor.hpp"
#include "moodnet/data/augment.hpp"
#include "moodnet/data/dataset.hpp"
#include "moodnet/data/normalize.hpp"

namespace moodnet::data {

// uniform: every image once per epoch (shuffled or in order). class_balanced: dataset-size draws
// with replacement, each image with probability proportional to 1 / (images in its class), i.e.
// every class equally often.
enum class Sampling { uniform, class_balanced };

// How the recipe's horizontal flips (AugmentConfig::hflip_p > 0) are chosen. random: a fresh draw
// per sample. alternate: the derandomised flip of airbench (Keller Jordan, 2024): image i is
// mirrored in epoch e iff (e + phase_i) is odd, its phase a bit drawn once from the seed, so every
// image is seen both ways in every two epochs (in class-balanced sampling, an image drawn twice in
// one epoch has the same flip both times). The other augmentation draws are the same in both modes.
enum class FlipMode { random, alternate };

struct Batch {
  Tensor<float> images;               // [B, C, H, W], or [B, C, crop, crop]
  Tensor<std::int32_t> labels;        // [B]
  std::vector<std::int64_t> indices;  // dataset index of each row (for error analysis and tests)
  std::int64_t epoch = 0, index = 0;  // batch `index` of `epoch`
  std::int64_t first_item = 0;        // position of row 0 in the whole batch (a shard's begin; else 0)
};

struct LoaderOptions {
  std::int64_t batch_size = 128;
  bool shuffle = true;
  bool drop_last = false;  // drop a last batch smaller than batch_size
  Sampling sampling = Sampling::uniform;
  std::uint64_t seed = 0;
  AugmentConfig augment = AugmentConfig::none();
  FlipMode flip = FlipMode::random;
  Normalization norm;  // one value, or one per channel of the dataset
  // Training crop: every sample is a random crop x crop window of the stored image (before the
  // augmentation, whose pixel magnitudes then scale with crop); 0 = the whole image. Evaluate
  // such a model on centre_crop(x, crop) or tta_ten_crop(x, {crop, false}) (tta.hpp).
  int crop = 0;
  int prefetch = 2;  // batches prepared ahead by the background thread; 0 = no thread
  // Data-parallel training: this worker's share (core/shard.hpp) of every batch, shard_index of
  // shard_count. Its samples are exactly those the whole batch holds at those positions (the same
  // images, labels and augmentation draws), so the shards of all workers put together are the batch
  // (a batch_transform sees only the shard).
  int shard_index = 0, shard_count = 1;
  // Optional hook run on each finished batch (in the worker), e.g. mixup; gets its own stream.
  std::function<void(Batch&, Rng&)> batch_transform;
};

struct LoaderStats {
  double wait_seconds = 0;     // time next() spent waiting for a batch, this epoch
  double prepare_seconds = 0;  // time spent preparing batches, this epoch
  std::int64_t batches = 0;    // batches handed out this epoch
};

class BatchLoader {
 public:
  // Random streams: kind-tagged so shuffling, sample augmentation, batch hooks and flip phases never
  // share one (4 kinds: stream() keeps them apart with epoch * 4 + kind).
  enum StreamKind : std::uint64_t { kOrder = 0, kSample = 1, kBatchHook = 2, kFlipPhase = 3 };
  static std::uint64_t stream(StreamKind kind, std::int64_t epoch, std::int64_t i) {
    return ((static_cast<std::uint64_t>(epoch) * 4 + kind) << 32) ^ static_cast<std::uint64_t>(i);
  }

  BatchLoader(const Dataset& data, LoaderOptions options) : data_(data), opt_(std::move(options)) {
    MOODNET_CHECK(opt_.batch_size >= 1, "batch size must be >= 1, got ", opt_.batch_size);
    MOODNET_CHECK(opt_.prefetch >= 0, "prefetch must be >= 0, got ", opt_.prefetch);
    shard_of(opt_.batch_size, opt_.shard_index, opt_.shard_count);  // throws for a shard that does not exist
    MOODNET_CHECK(data_.size() > 0, "cannot iterate over an empty dataset (", data_.report.source, ")");
    opt_.norm.check_for(data_.channels(), "BatchLoader");
    const ImageShape in = data_.shape();
    MOODNET_CHECK(opt_.crop >= 0 && opt_.crop <= std::min(in.height, in.width), "training crop ", opt_.crop,
                  " must be in [0, ", std::min(in.height, in.width), "] for images of ", in.str(), " (",
                  data_.report.source, ")");
    opt_.augment.validate();
    if (opt_.sampling == Sampling::class_balanced) {
      by_class_.resize(data_.class_names.size());
      for (std::int64_t i = 0; i < data_.size(); ++i) by_class_[static_cast<std::size_t>(data_.labels[i])].push_back(i);
      for (std::size_t c = 0; c < by_class_.size(); ++c)
        if (!by_class_[c].empty()) nonempty_classes_.push_back(c);
    }
  }
  BatchLoader(const Dataset&&, LoaderOptions) = delete;  // the loader keeps a reference
  BatchLoader(const BatchLoader&) = delete;
  BatchLoader& operator=(const BatchLoader&) = delete;
  ~BatchLoader() { stop(); }

  std::int64_t batches_per_epoch() const {
    const std::int64_t n = data_.size(), b = opt_.batch_size;
    return opt_.drop_last ? n / b : (n + b - 1) / b;
  }
  const LoaderOptions& options() const { return opt_; }
  // The shape of each batch row: the dataset's, or C x crop x crop.
  ImageShape output_shape() const {
    const ImageShape in = data_.shape();
    return opt_.crop > 0 ? ImageShape{in.channels, opt_.crop, opt_.crop} : in;
  }

  // FlipMode::alternate: whether dataset image `index` is mirrored in epoch `epoch`; its phase is
  // drawn once, from stream(kFlipPhase, 0, index) of the seed.
  static bool alternate_flip(std::uint64_t seed, std::int64_t epoch, std::int64_t index) {
    const std::uint64_t phase = Rng(seed, stream(kFlipPhase, 0, index)).next_u64() >> 63;
    return ((static_cast<std::uint64_t>(epoch) + phase) & 1) != 0;
  }

  // The dataset indices of epoch `epoch`, in order (pure function of seed and epoch).
  std::vector<std::int64_t> epoch_order(std::int64_t epoch) const {
    const std::int64_t n = data_.size();
    std::vector<std::int64_t> order(static_cast<std::size_t>(n));
    Rng rng(opt_.seed, stream(kOrder, epoch, 0));
    if (opt_.sampling == Sampling::class_balanced) {
      for (auto& o : order) {
        const auto& members = by_class_[nonempty_classes_[rng.uniform_int(nonempty_classes_.size())]];
        o = members[rng.uniform_int(members.size())];
      }
      return order;
    }
    std::iota(order.begin(), order.end(), std::int64_t{0});
    if (opt_.shuffle)
      for (std::int64_t i = n - 1; i > 0; --i)
        std::swap(order[static_cast<std::size_t>(i)], order[rng.uniform_int(static_cast<std::uint64_t>(i + 1))]);
    return order;
  }

  // Begins epoch `epoch` at batch `first_batch` (0 = the start), cancelling any epoch in flight.
  void start_epoch(std::int64_t epoch, std::int64_t first_batch = 0) {
    MOODNET_CHECK(epoch >= 0, "epoch must be >= 0, got ", epoch);
    MOODNET_CHECK(first_batch >= 0 && first_batch <= batches_per_epoch(), "first batch ", first_batch,
                  " out of range [0, ", batches_per_epoch(), "]");
    stop();
    epoch_ = epoch;
    order_ = epoch_order(epoch);
    next_batch_ = first_batch;
    stats_ = {};
    queue_.clear();
    error_ = nullptr;
    cancel_ = false;
    worker_done_ = false;
    started_ = true;
    if (opt_.prefetch > 0) worker_ = std::thread([this, first_batch] { run_worker(first_batch); });
  }

  // The next batch of the current epoch, or nullopt at its end. Rethrows a worker's exception.
  std::optional<Batch> next() {
    MOODNET_CHECK(started_, "BatchLoader::next() called before start_epoch()");
    const auto t0 = std::chrono::steady_clock::now();
    if (opt_.prefetch == 0) {
      if (next_batch_ >= batches_per_epoch()) return std::nullopt;
      Batch b = make_batch(next_batch_++, /*parallel=*/true);
      stats_.prepare_seconds += seconds_since(t0);
      stats_.wait_seconds += seconds_since(t0);
      ++stats_.batches;
      return b;
    }
    std::unique_lock lock(mutex_);
    ready_.wait(lock, [&] { return !queue_.empty() || worker_done_; });
    stats_.wait_seconds += seconds_since(t0);
    if (queue_.empty()) {
      if (error_) {
        auto e = error_;
        error_ = nullptr;
        std::rethrow_exception(e);
      }
      return std::nullopt;
    }
    Batch b = std::move(queue_.front());
    queue_.pop_front();
    ++stats_.batches;
    space_.notify_one();
    return b;
  }

  // Waiting and preparation time of the current epoch (the cost the trainer can show).
  LoaderStats stats() const {
    std::lock_guard lock(mutex_);
    return stats_;
  }

  // Items in the whole of batch `b` (all shards): batch_size, or fewer in the last batch.
  std::int64_t batch_items(std::int64_t b) const {
    return std::min(opt_.batch_size, data_.size() - b * opt_.batch_size);
  }

  // Builds batch `b` of the current epoch order, this worker's shard of it (used by the worker;
  // public for tests).
  Batch make_batch(std::int64_t b, bool parallel) const {
    const Shard share = shard_of(batch_items(b), opt_.shard_index, opt_.shard_count);
    const std::int64_t first = b * opt_.batch_size + share.begin, count = share.size();
    Batch batch;
    batch.epoch = epoch_;
    batch.index = b;
    batch.first_item = share.begin;
    const ImageShape in = data_.shape(), out_shape = output_shape();
    batch.images = Tensor<float>::uninitialized({count, out_shape.channels, out_shape.height, out_shape.width});
    batch.labels = Tensor<std::int32_t>::uninitialized({count});
    batch.indices.assign(order_.begin() + first, order_.begin() + first + count);
    auto one = [&](std::int64_t k) {
      const std::int64_t idx = order_[static_cast<std::size_t>(first + k)];
      batch.labels[k] = data_.labels[idx];
      float* out = batch.images.data() + k * out_shape.numel();
      Rng rng(opt_.seed, stream(kSample, epoch_, first + k));
      const Flip flip = opt_.flip == FlipMode::random         ? Flip::draw
                        : alternate_flip(opt_.seed, epoch_, idx) ? Flip::yes
                                                                 : Flip::no;
      augment_sample(data_.image(idx), in, opt_.crop, out, opt_.augment, opt_.norm, rng, flip);
    };
    if (parallel) {
      parallel_for(count, one);
    } else {
      for (std::int64_t k = 0; k < count; ++k) one(k);
    }
    if (opt_.batch_transform) {
      Rng rng(opt_.seed, stream(kBatchHook, epoch_, b));
      opt_.batch_transform(batch, rng);
    }
    return batch;
  }

 private:
  static double seconds_since(std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  }

  void run_worker(std::int64_t first_batch) {
    try {
      for (std::int64_t b = first_batch; b < batches_per_epoch(); ++b) {
        {
          std::unique_lock lock(mutex_);
          space_.wait(lock, [&] { return cancel_ || static_cast<int>(queue_.size()) < opt_.prefetch; });
          if (cancel_) break;
        }
        const auto t0 = std::chrono::steady_clock::now();
        Batch batch = make_batch(b, /*parallel=*/false);
        std::lock_guard lock(mutex_);
        stats_.prepare_seconds += seconds_since(t0);
        if (cancel_) break;
        queue_.push_back(std::move(batch));
        ready_.notify_one();
      }
    } catch (...) {
      std::lock_guard lock(mutex_);
      error_ = std::current_exception();
    }
    std::lock_guard lock(mutex_);
    worker_done_ = true;
    ready_.notify_all();
  }

  // Cancels and joins the worker; safe to call repeatedly.
  void stop() {
    {
      std::lock_guard lock(mutex_);
      cancel_ = true;
      space_.notify_all();
    }
    if (worker_.joinable()) worker_.join();
  }

  const Dataset& data_;
  LoaderOptions opt_;
  std::vector<std::vector<std::int64_t>> by_class_;
  std::vector<std::size_t> nonempty_classes_;

  std::int64_t epoch_ = 0, next_batch_ = 0;
  std::vector<std::int64_t> order_;
  bool started_ = false;

  mutable std::mutex mutex_;
  std::condition_variable ready_, space_;
  std::deque<Batch> queue_;
  std::exception_ptr error_;
  bool cancel_ = false, worker_done_ = false;
  LoaderStats stats_;
  std::thread worker_;
};

}  // namespace moodnet::data
