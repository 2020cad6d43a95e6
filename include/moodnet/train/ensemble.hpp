#pragma once
// Ensembles of trained classifiers: several weights files whose class probabilities are averaged.
// Each member sees the images as its own training did — normalised with its own mean/std, centre-
// cropped to its own input, the TTA views averaged first (predict_probabilities) — and then the
// members' probabilities are averaged with equal weights:
//   p_ens[i, k] = (1/M) sum_m p_m[i, k],    p_m = mean over views of softmax(model_m(view))
// What the members must share is what the images are read as and what the outputs mean: the same
// class names in the same order and the same stored image shape [C, H, W] (their inputs may differ,
// e.g. a model trained on 44x44 crops of 48x48 images beside one trained on the whole 48x48).
//   train::Ensemble e = train::Ensemble::load({"a.safetensors", "b.safetensors"});
//   std::vector<float> p = e.probabilities(pixels, n, train::Tta::flip);   // [n, K]
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "moodnet/core/error.hpp"
#include "moodnet/data/image_folder.hpp"
#include "moodnet/train/evaluate.hpp"

namespace moodnet::train {

// Element-wise mean of M >= 1 probability arrays of one size ([n, K] row-major each), summed in
// double. The mean of one array is that array exactly.
inline std::vector<float> average_probabilities(const std::vector<std::vector<float>>& members) {
  MOODNET_CHECK(!members.empty(), "average_probabilities: no members");
  const std::size_t size = members.front().size();
  std::vector<double> sum(size, 0.0);
  for (const std::vector<float>& p : members) {
    MOODNET_CHECK(p.size() == size, "average_probabilities: members of ", size, " and ", p.size(), " values");
    for (std::size_t i = 0; i < size; ++i) sum[i] += static_cast<double>(p[i]);
  }
  const double m = static_cast<double>(members.size());
  std::vector<float> out(size);
  for (std::size_t i = 0; i < size; ++i) out[i] = static_cast<float>(sum[i] / m);
  return out;
}

// Throws moodnet::Error, naming both files, unless the classifier of `file_b` can be averaged with
// that of `file_a`: the same class names in order, the same stored image shape.
inline void check_ensemble_members(const std::string& file_a, const io::ModelMetadata& a, const std::string& file_b,
                                   const io::ModelMetadata& b) {
  if (a.class_names != b.class_names)
    fail("ensemble: ", file_a, " has the classes {", data::detail::joined(a.class_names), "}, ", file_b, " {",
         data::detail::joined(b.class_names), "}: members must have the same classes in the same order");
  if (a.stored_shape() != b.stored_shape())
    fail("ensemble: ", file_a, " reads images as ", a.stored_shape().str(), ", ", file_b, " as ",
         b.stored_shape().str(), " (channels x height x width): members must read images of one shape");
}

class Ensemble {
 public:
  struct Member {
    std::string file;  // named in errors and reports
    Classifier classifier;
  };

  // Checks every member against the first (check_ensemble_members).
  explicit Ensemble(std::vector<Member> members) : members_(std::move(members)) {
    MOODNET_CHECK(!members_.empty(), "--weights is required (a .safetensors file written by a moodnet trainer)");
    for (std::size_t i = 1; i < members_.size(); ++i)
      check_ensemble_members(members_[0].file, members_[0].classifier.metadata, members_[i].file,
                             members_[i].classifier.metadata);
  }
  // Loads each weights file (load_classifier: one-line errors naming the file).
  static Ensemble load(const std::vector<std::string>& files) {
    std::vector<Member> members;
    for (const std::string& f : files) members.push_back({f, load_classifier(f)});
    return Ensemble(std::move(members));
  }

  std::size_t size() const { return members_.size(); }
  Member& member(std::size_t i) { return members_[i]; }
  const Member& member(std::size_t i) const { return members_[i]; }
  // The first member's metadata: the classes and stored shape all members share (and, for
  // evaluate, the aspect rule datasets are read by).
  const io::ModelMetadata& metadata() const { return members_.front().classifier.metadata; }
  data::ImageShape stored_shape() const { return metadata().stored_shape(); }
  const std::vector<std::string>& class_names() const { return metadata().class_names; }

  // Probabilities [n, K] row-major of n images `pixels` uint8 [n, C, H, W] of stored_shape(): each
  // member normalises them by its own metadata and averages its TTA views, then the members are
  // averaged (average_probabilities). `per_member`, when given, receives each member's [n, K].
  std::vector<float> probabilities(const std::uint8_t* pixels, std::int64_t n, Tta tta,
                                   std::vector<std::vector<float>>* per_member = nullptr,
                                   std::int64_t forward_batch = 128) {
    const data::ImageShape s = stored_shape();
    std::vector<std::vector<float>> probs;
    Tensor<float> x({n, s.channels, s.height, s.width});
    for (Member& m : members_) {
      m.classifier.norm.check_for(s.channels, m.file);
      data::normalize_images(pixels, x.data(), n, s, m.classifier.norm);
      probs.push_back(predict_probabilities(m.classifier.model, x, tta, forward_batch));
    }
    std::vector<float> mean = average_probabilities(probs);
    if (per_member) *per_member = std::move(probs);
    return mean;
  }

 private:
  std::vector<Member> members_;
};

// The ensemble's evaluation (evaluate_with) and, at no extra cost, each member's own accuracy.
struct EnsembleEvalResult {
  EvalResult ensemble;
  std::vector<std::int64_t> member_correct;  // images member m classifies right, of ensemble.confusion.total()
};

// Evaluates the ensemble on every image of `d` (stored as e.stored_shape(), classes e's).
inline EnsembleEvalResult evaluate(Ensemble& e, const data::Dataset& d, Tta tta = Tta::none,
                                   std::int64_t forward_batch = 128) {
  MOODNET_CHECK(d.size() > 0, "cannot evaluate on an empty dataset (", d.report.source, ")");
  MOODNET_CHECK(d.shape() == e.stored_shape(), "the images of ", d.report.source, " are ", d.shape().str(), ", ",
                e.member(0).file, " reads ", e.stored_shape().str());
  for (std::size_t m = 0; m < e.size(); ++m)
    check_fits_input(d.shape(), e.member(m).classifier.model.sample_shape(), "the images of " + d.report.source);
  const std::int64_t k = d.num_classes();
  std::vector<std::int64_t> correct(e.size(), 0);
  std::vector<std::vector<float>> members;
  EvalResult r = evaluate_with(d, [&](std::int64_t b, std::int64_t n) {
    std::vector<float> mean = e.probabilities(d.image(b), n, tta, &members, forward_batch);
    for (std::size_t m = 0; m < members.size(); ++m)
      for (std::int64_t i = 0; i < n && static_cast<std::int64_t>(members[m].size()) == n * k; ++i) {
        const float* p = members[m].data() + i * k;
        correct[m] += std::max_element(p, p + k) - p == d.label(b + i);
      }
    return mean;
  });
  return {std::move(r), std::move(correct)};
}

}  // namespace moodnet::train
