#pragma once
// WeightAverage<T>: an exponential moving average (EMA) of a Model's weights, kept beside the model
// while training goes on with the raw weights; validation, the choice of the best epoch and the
// shipped file then use the average (Polyak averaging as timm's ModelEmaV2 does it).
//
//   after optimizer step t = 0, 1, 2, ...:   avg <- avg + (1 - d_t) (w - avg)
//   d_t = d                                  (warm-up off)
//   d_t = min(d, (1 + t) / (10 + t))         (warm-up on: TensorFlow's ExponentialMovingAverage with
//                                             num_updates; 0.1, 0.18, 0.25, ... rising to d)
//   avg starts as the model's weights when the average is made (the initial weights)
//
// Without the warm-up the initial random weights keep a share d^t of the average: 0.74 after 3,000
// steps at d = 0.9999, most of a short run. With it, step t's average weighs the last ~(10 + t)/9
// weights until that horizon reaches 1 / (1 - d).
//
// Batchnorm running statistics (every floating-point buffer of the model) are averaged the same way,
// with the same d_t, rather than recomputed for the averaged weights by a pass over training batches
// (SWA's bn_update). Why: the running statistics are already an EMA (momentum 0.1) of the batch
// statistics of the recent raw weights, so their average covers the same window of weights as the
// average of the weights; it costs nothing per epoch (a recomputing pass is a forward over many
// training batches before every validation), needs no data, so it cannot move the loader's position
// or random draws (a resumed run stays bit-identical), and is the same on every data-parallel rank
// that holds the same buffers. Its known limit: they are statistics of a mixture of recent networks,
// not of the averaged one, which matters when d's window (1 / (1 - d) steps) is long against how
// fast the weights drift. Integer buffers (num_batches_tracked) are not averaged: the model keeps
// its own, so a saved average carries the raw model's counter.
//
//   WeightAverage<float> ema(model, 0.999, /*warmup=*/true);
//   for each step:  ... optimizer.step();  ema.update();
//   { WeightAverageScope averaged(&ema);  evaluate(model, ...);  save_weights(...); }  // raw weights back
//
// The average is T like the weights (float: each update rounds to 2^-24 relative; over 10^4 steps
// that is a random walk of about 10^-5 relative, far below what a weight moves).
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "moodnet/core/error.hpp"
#include "moodnet/core/parallel.hpp"
#include "moodnet/core/tensor.hpp"
#include "moodnet/models/model.hpp"

namespace moodnet {

template <class T>
class WeightAverage {
 public:
  // model: must outlive the average (its arena and buffers are referred to, not copied). decay d
  // in (0, 1).
  WeightAverage(Model<T>& model, double decay, bool warmup)
      : model_(model), decay_(decay), warmup_(warmup), params_({std::max<std::int64_t>(model.num_parameters(), 1)}) {
    MOODNET_CHECK(decay > 0 && decay < 1, "weight average: the decay must be in (0, 1), got ", decay);
    std::int64_t n = 0;
    for (auto& b : model.named_buffers())
      if (!b.buffer.counter) views_.push_back(b.buffer.values), n += b.buffer.values.numel();
    buffers_ = Tensor<T>({std::max<std::int64_t>(n, 1)});
    reset();
  }
  WeightAverage(const WeightAverage&) = delete;
  WeightAverage& operator=(const WeightAverage&) = delete;

  // The average := the model's current weights and buffers, with no update counted.
  void reset() {
    const TensorView<T> w = model_.parameter_values();
    std::copy(w.data(), w.data() + w.numel(), params_.data());
    std::int64_t at = 0;
    for (const TensorView<T>& v : views_) std::copy(v.data(), v.data() + v.numel(), buffers_.data() + at), at += v.numel();
    updates_ = 0;
  }

  // d_t of the file comment for update number t (0-based).
  double decay_at(std::int64_t t) const {
    return warmup_ ? std::min(decay_, (1.0 + static_cast<double>(t)) / (10.0 + static_cast<double>(t))) : decay_;
  }

  // One update with the model's current weights and float buffers (after an optimizer step).
  void update() {
    const T a = static_cast<T>(1.0 - decay_at(updates_));  // rounded once, from double
    const TensorView<T> w = model_.parameter_values();
    blend(params_.data(), w.data(), w.numel(), a);
    std::int64_t at = 0;
    for (const TensorView<T>& v : views_) blend(buffers_.data() + at, v.data(), v.numel(), a), at += v.numel();
    ++updates_;
  }

  // Exchanges the average with the model's weights and float buffers: twice is the identity, bit
  // for bit (values are moved, never recomputed). The model's plans hold views of the same storage,
  // so the next forward uses what was swapped in.
  void swap() {
    const TensorView<T> w = model_.parameter_values();
    std::swap_ranges(w.data(), w.data() + w.numel(), params_.data());
    std::int64_t at = 0;
    for (const TensorView<T>& v : views_)
      std::swap_ranges(v.data(), v.data() + v.numel(), buffers_.data() + at), at += v.numel();
  }

  double decay() const { return decay_; }
  bool warmup() const { return warmup_; }
  std::int64_t updates() const { return updates_; }
  void set_updates(std::int64_t n) {
    MOODNET_CHECK(n >= 0, "weight average: the update count must be >= 0, got ", n);
    updates_ = n;
  }
  // The averages for the training-state file: "ema.parameters" [P] in arena order and "ema.buffers"
  // [B], the float buffers back to back in named_buffers order (each only when not empty).
  std::vector<std::pair<std::string, TensorView<T>>> state_buffers() {
    std::vector<std::pair<std::string, TensorView<T>>> out;
    const std::int64_t p = model_.num_parameters(), b = buffer_count();
    if (p > 0) out.emplace_back("ema.parameters", TensorView<T>(params_.data(), Shape{p}));
    if (b > 0) out.emplace_back("ema.buffers", TensorView<T>(buffers_.data(), Shape{b}));
    return out;
  }

 private:
  std::int64_t buffer_count() const {
    std::int64_t n = 0;
    for (const TensorView<T>& v : views_) n += v.numel();
    return n;
  }
  // avg[i] += a (w[i] - avg[i]), i in [0, n): each element on its own, so the result does not depend
  // on the thread count; serial below 32K elements (a BN layer's buffers), else parallel chunks.
  static void blend(T* avg, const T* w, std::int64_t n, T a) {
    const auto body = [=](std::int64_t b, std::int64_t e) {
#pragma omp simd
      for (std::int64_t i = b; i < e; ++i) avg[i] += a * (w[i] - avg[i]);
    };
    if (n < (std::int64_t{1} << 15)) body(0, n);
    else parallel_for_chunks(n, body);
  }

  Model<T>& model_;
  double decay_;
  bool warmup_;
  Tensor<T> params_;                  // [max(P, 1)]: the averaged parameters, arena order
  Tensor<T> buffers_;                 // [max(B, 1)]: the averaged float buffers, back to back
  std::vector<TensorView<T>> views_;  // the model's float buffers (running_mean, running_var, ...)
  std::int64_t updates_ = 0;
};

// Swaps the average into the model for a scope (restore() or the end of the scope swaps the raw
// weights back); a null average does nothing, so `WeightAverageScope s(ema_.get())` reads the same
// with and without --ema.
template <class T>
class WeightAverageScope {
 public:
  explicit WeightAverageScope(WeightAverage<T>* average) : average_(average) {
    if (average_) average_->swap();
  }
  WeightAverageScope(const WeightAverageScope&) = delete;
  WeightAverageScope& operator=(const WeightAverageScope&) = delete;
  ~WeightAverageScope() { restore(); }
  void restore() {
    if (average_) average_->swap();
    average_ = nullptr;
  }

 private:
  WeightAverage<T>* average_;
};

}  // namespace moodnet
