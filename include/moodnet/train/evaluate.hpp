#pragma once
// Evaluation of a model on a dataset: mean cross-entropy, confusion matrix and class probabilities,
// optionally with test-time augmentation (horizontal-flip pair or ten-crop, probabilities averaged
// over the views). Any image shape: images are normalised per channel and, when they are stored
// larger than the network's input (a model trained on random c x c crops), centre-cropped to it
// (ten-crop then takes c x c crops). The model runs in eval mode (running BN statistics, no
// dropout) and is put back in the mode it was in.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <exception>
#include <string>
#include <vector>

#include "moodnet/data/dataset.hpp"
#include "moodnet/data/normalize.hpp"
#include "moodnet/data/tta.hpp"
#include "moodnet/io/model_checkpoint.hpp"
#include "moodnet/models/model.hpp"
#include "moodnet/train/confusion_matrix.hpp"
#include "moodnet/train/signal.hpp"

namespace moodnet::train {

enum class Tta { none, flip, ten_crop };

inline Tta parse_tta(const std::string& s) {
  if (s == "none") return Tta::none;
  if (s == "flip") return Tta::flip;
  if (s == "tencrop" || s == "ten-crop") return Tta::ten_crop;
  fail("unknown test-time augmentation '", s, "' (expected none, flip or tencrop)");
}
inline int tta_views(Tta t) { return t == Tta::none ? 1 : t == Tta::flip ? 2 : 10; }

// Thrown by predict_probabilities (and so by evaluate) before a forward batch when a stop was
// requested (Ctrl-C, SIGTERM, SIGHUP: train/signal.hpp) while an InterruptibleEvaluation is alive
// on this thread: the trainer's final ten-crop evaluation of a large test split takes minutes, and
// Ctrl-C must end it within a batch. Elsewhere (predict, evaluate, validation) nothing changes.
struct EvaluationInterrupted : std::exception {
  const char* what() const noexcept override { return "evaluation interrupted"; }
};
namespace detail {
inline thread_local bool evaluation_interruptible = false;
}
class InterruptibleEvaluation {
 public:
  InterruptibleEvaluation() : saved_(detail::evaluation_interruptible) { detail::evaluation_interruptible = true; }
  ~InterruptibleEvaluation() { detail::evaluation_interruptible = saved_; }
  InterruptibleEvaluation(const InterruptibleEvaluation&) = delete;
  InterruptibleEvaluation& operator=(const InterruptibleEvaluation&) = delete;

 private:
  bool saved_;
};

// A trained classifier read from a weights file: the network, its metadata (model, classes, input
// and stored shape, aspect rule) and the input normalisation it was trained with.
struct Classifier {
  Model<float> model;
  io::ModelMetadata metadata;
  data::Normalization norm;
};
inline Classifier load_classifier(const std::string& weights) {
  MOODNET_CHECK(!weights.empty(), "--weights is required (a .safetensors file written by a moodnet trainer)");
  io::ModelMetadata md;
  Model<float> model = io::load_model<float>(weights, &md);
  data::Normalization norm = md.normalization();
  return Classifier{std::move(model), std::move(md), std::move(norm)};
}

// Checks that images of `stored` shape can feed a network taking `input` [C, h, w]: the same
// channels, and the same size or a larger one to centre-crop a square h x h from. `what` names the
// images in the message.
inline void check_fits_input(const data::ImageShape& stored, const Shape& input, const std::string& what) {
  if (input.rank() != 3 || stored.channels != input[0])
    fail(what, " have ", stored.channels, " channel(s) (", stored.str(), "), the model takes ", input.str());
  const bool same = stored.height == input[1] && stored.width == input[2];
  if (!same && !(input[1] == input[2] && stored.height >= input[1] && stored.width >= input[2]))
    fail(what, " are ", stored.str(), ", the model takes ", input.str(),
         " (images must have its size, or be larger for a centre crop to a square input)");
}

// The views the network sees of normalised images x [n, C, H, W] for a network taking [C, h, w]
// (check_fits_input): x itself, or its centre h x h crop; flip adds the mirror of each; ten-crop
// takes five crops (of 11/12 of the side resized back, or of h x h when H x W is larger) and
// their mirrors. Sample-major: rows [i*k, (i+1)*k) are image i's k = tta_views(tta) views.
inline Tensor<float> input_views(TensorView<const float> x, const Shape& input, Tta tta) {
  const bool same = x.dim(2) == input[1] && x.dim(3) == input[2];
  const int crop = static_cast<int>(input[1]);
  if (tta == Tta::ten_crop) return same ? data::tta_ten_crop(x) : data::tta_ten_crop(x, {crop, false});
  if (same && tta == Tta::flip) return data::tta_hflip(x);
  Tensor<float> base = same ? Tensor<float>::uninitialized(x.shape()) : data::centre_crop(x, crop);
  if (same) base.copy_from(x);
  return tta == Tta::flip ? data::tta_hflip(base) : base;
}

struct EvalResult {
  double loss = 0;                  // mean -log p(label) of the (averaged) probabilities
  ConfusionMatrix confusion;        // rows: true class, columns: predicted
  std::vector<float> probabilities; // [N, K] row-major, in dataset order
  double accuracy() const { return confusion.accuracy(); }
};

// Softmax of each row of logits [n, k] into out [n, k].
inline void softmax_rows(const float* logits, std::int64_t n, std::int64_t k, float* out) {
  for (std::int64_t i = 0; i < n; ++i) {
    const float* z = logits + i * k;
    float* p = out + i * k;
    const float m = *std::max_element(z, z + k);
    double s = 0;
    for (std::int64_t j = 0; j < k; ++j) s += std::exp(static_cast<double>(z[j] - m));
    for (std::int64_t j = 0; j < k; ++j) p[j] = static_cast<float>(std::exp(static_cast<double>(z[j] - m)) / s);
  }
}

// Runs the model over images already normalised: x [n, C, H, W] -> probabilities [n, K], averaged
// over the TTA views (input_views: centre-cropped when H x W is larger than the model's input).
// `forward_batch` bounds the images per forward (views included).
inline std::vector<float> predict_probabilities(Model<float>& model, TensorView<const float> x, Tta tta,
                                                std::int64_t forward_batch = 128) {
  MOODNET_CHECK(x.rank() == 4, "predict_probabilities expects images [N, C, H, W], got ", x.shape().str());
  const Shape& input = model.sample_shape();
  check_fits_input({static_cast<int>(x.dim(1)), static_cast<int>(x.dim(2)), static_cast<int>(x.dim(3))}, input,
                   "the images");
  const int views = tta_views(tta);
  const std::int64_t n = x.dim(0), chunk = std::max<std::int64_t>(1, forward_batch / views);
  std::vector<float> probs;
  Tensor<float> p;
  const bool was_training = model.training();
  model.eval();
  for (std::int64_t b = 0; b < n; b += chunk) {
    if (detail::evaluation_interruptible && stop_requested()) {
      if (was_training) model.train();
      throw EvaluationInterrupted();
    }
    const std::int64_t m = std::min(chunk, n - b);
    const TensorView<const float> xb = x.batch(b, m);
    const bool as_is = tta == Tta::none && xb.dim(2) == input[1] && xb.dim(3) == input[2];
    const Tensor<float> expanded = as_is ? Tensor<float>() : input_views(xb, input, tta);
    const TensorView<const float> logits = model.forward(as_is ? xb : TensorView<const float>(expanded));
    const std::int64_t k = logits.dim(1);
    p.resize(logits.shape());
    softmax_rows(logits.data(), logits.dim(0), k, p.data());
    const Tensor<float> avg = views == 1 ? p : data::tta_average(p, views);
    probs.insert(probs.end(), avg.begin(), avg.end());
  }
  if (was_training) model.train();
  return probs;
}

// Scores the probabilities of every image of `d`: probabilities_of(first, count) returns [count, K]
// row-major for images [first, first + count), asked for `block` images at a time. Mean
// cross-entropy of the true class (floored at 1e-12) and the confusion matrix of the argmax.
template <class ProbabilitiesOf>
inline EvalResult evaluate_with(const data::Dataset& d, ProbabilitiesOf&& probabilities_of, std::int64_t block = 1024) {
  MOODNET_CHECK(d.size() > 0, "cannot evaluate on an empty dataset (", d.report.source, ")");
  EvalResult r{0, ConfusionMatrix(d.class_names), {}};
  const std::int64_t k = d.num_classes();
  for (std::int64_t b = 0; b < d.size(); b += block) {
    const std::int64_t m = std::min(block, d.size() - b);
    const std::vector<float> probs = probabilities_of(b, m);
    MOODNET_CHECK(static_cast<std::int64_t>(probs.size()) == m * k, "model has ", probs.size() / m,
                  " outputs, the dataset ", k, " classes");
    for (std::int64_t i = 0; i < m; ++i) {
      const float* p = probs.data() + i * k;
      const int label = d.label(b + i);
      r.loss -= std::log(std::max(static_cast<double>(p[label]), 1e-12));
      r.confusion.add(label, static_cast<int>(std::max_element(p, p + k) - p));
    }
    r.probabilities.insert(r.probabilities.end(), probs.begin(), probs.end());
  }
  r.loss /= static_cast<double>(d.size());
  return r;
}

// Evaluates `model` on every image of `d` (normalised with `norm`, one value or one per channel).
// The dataset's images must fit the model's input (check_fits_input).
inline EvalResult evaluate(Model<float>& model, const data::Dataset& d, const data::Normalization& norm,
                           Tta tta = Tta::none, std::int64_t forward_batch = 128) {
  MOODNET_CHECK(d.size() > 0, "cannot evaluate on an empty dataset (", d.report.source, ")");
  const data::ImageShape shape = d.shape();
  check_fits_input(shape, model.sample_shape(), "the images of " + d.report.source);
  norm.check_for(shape.channels, "evaluate on " + d.report.source);
  Tensor<float> x;
  return evaluate_with(d, [&](std::int64_t b, std::int64_t m) {
    x.resize({m, shape.channels, shape.height, shape.width});
    data::normalize_images(d.image(b), x.data(), m, shape, norm);
    return predict_probabilities(model, x, tta, forward_batch);
  });
}

}  // namespace moodnet::train
