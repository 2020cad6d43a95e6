#pragma once
// Evaluation of a model on a dataset: mean cross-entropy, confusion matrix and class probabilities,
// optionally with test-time augmentation (horizontal-flip pair or ten-crop, probabilities averaged
// over the views). The model runs in eval mode (running BN statistics, no dropout) and is put back
// in the mode it was in.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "moodnet/data/dataset.hpp"
#include "moodnet/data/normalize.hpp"
#include "moodnet/data/tta.hpp"
#include "moodnet/io/model_checkpoint.hpp"
#include "moodnet/models/model.hpp"
#include "moodnet/train/confusion_matrix.hpp"

namespace moodnet::train {

enum class Tta { none, flip, ten_crop };

inline Tta parse_tta(const std::string& s) {
  if (s == "none") return Tta::none;
  if (s == "flip") return Tta::flip;
  if (s == "tencrop" || s == "ten-crop") return Tta::ten_crop;
  fail("unknown test-time augmentation '", s, "' (expected none, flip or tencrop)");
}
inline int tta_views(Tta t) { return t == Tta::none ? 1 : t == Tta::flip ? 2 : 10; }

// A trained classifier read from a weights file: the network, its metadata (classes, width) and the
// input normalisation it was trained with.
struct Classifier {
  Model<float> model;
  io::ModelMetadata metadata;
  data::Normalization norm;
};
inline Classifier load_classifier(const std::string& weights) {
  MOODNET_CHECK(!weights.empty(), "--weights is required (a .safetensors file written by a moodnet trainer)");
  io::ModelMetadata md;
  Model<float> model = io::load_model<float>(weights, &md);
  const data::Normalization norm{static_cast<float>(md.input_mean), static_cast<float>(md.input_std)};
  return Classifier{std::move(model), std::move(md), norm};
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

// Runs the model over images already normalised: x [n, 1, 48, 48] -> probabilities [n, K], averaged
// over the TTA views. `forward_batch` bounds the images per forward (views included).
inline std::vector<float> predict_probabilities(Model<float>& model, TensorView<const float> x, Tta tta,
                                                std::int64_t forward_batch = 128) {
  const int views = tta_views(tta);
  const std::int64_t n = x.dim(0), chunk = std::max<std::int64_t>(1, forward_batch / views);
  std::vector<float> probs;
  Tensor<float> p;
  const bool was_training = model.training();
  model.eval();
  for (std::int64_t b = 0; b < n; b += chunk) {
    const std::int64_t m = std::min(chunk, n - b);
    const TensorView<const float> xb = x.batch(b, m);
    Tensor<float> expanded;
    if (tta == Tta::flip) expanded = data::tta_hflip(xb);
    if (tta == Tta::ten_crop) expanded = data::tta_ten_crop(xb);
    const TensorView<const float> logits = model.forward(tta == Tta::none ? xb : TensorView<const float>(expanded));
    const std::int64_t k = logits.dim(1);
    p.resize(logits.shape());
    softmax_rows(logits.data(), logits.dim(0), k, p.data());
    const Tensor<float> avg = views == 1 ? p : data::tta_average(p, views);
    probs.insert(probs.end(), avg.begin(), avg.end());
  }
  if (was_training) model.train();
  return probs;
}

// Evaluates `model` on every image of `d` (normalised with `norm`).
inline EvalResult evaluate(Model<float>& model, const data::Dataset& d, const data::Normalization& norm,
                           Tta tta = Tta::none, std::int64_t forward_batch = 128) {
  MOODNET_CHECK(d.size() > 0, "cannot evaluate on an empty dataset (", d.report.source, ")");
  EvalResult r{0, ConfusionMatrix(d.class_names), {}};
  const std::int64_t k = d.num_classes(), block = 1024;  // normalise 1024 images at a time
  Tensor<float> x;
  for (std::int64_t b = 0; b < d.size(); b += block) {
    const std::int64_t m = std::min(block, d.size() - b);
    x.resize({m, 1, data::kImageSize, data::kImageSize});
    data::normalize_pixels(d.image(b), x.data(), m * data::kImagePixels, norm);
    const std::vector<float> probs = predict_probabilities(model, x, tta, forward_batch);
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

}  // namespace moodnet::train
