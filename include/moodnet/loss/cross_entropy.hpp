#pragma once
// CrossEntropyLoss: softmax cross-entropy over logits [N, K] with int32 labels [N], mean over the
// batch, optional label smoothing and per-class weights — PyTorch's nn.CrossEntropyLoss semantics
// (kernels/cross_entropy.hpp states them). forward_backward() returns the loss and keeps dlogits.
#include <cstdint>
#include <vector>

#include "moodnet/core/tensor.hpp"
#include "moodnet/kernels/cross_entropy.hpp"

namespace moodnet {

template <class T>
class CrossEntropyLoss {
 public:
  explicit CrossEntropyLoss(double label_smoothing = 0.0, std::vector<T> class_weights = {})
      : smoothing_(label_smoothing), weights_(std::move(class_weights)) {
    MOODNET_CHECK(smoothing_ >= 0 && smoothing_ < 1, "label smoothing must be in [0, 1), got ", smoothing_);
    for (std::size_t k = 0; k < weights_.size(); ++k)
      MOODNET_CHECK(weights_[k] >= 0, "class weight ", k, " must be >= 0, got ", weights_[k]);
  }

  // logits: [N, K]; labels: [N] in [0, K). Returns the mean loss; gradient() then holds dL/dlogits
  // and probabilities() the softmax.
  double forward_backward(TensorView<const T> logits, const std::int32_t* labels) {
    const kernels::CrossEntropyParams p = params(logits);
    dlogits_.resize(logits.shape());
    probs_.resize(logits.shape());
    return kernels::softmax_cross_entropy_forward_backward(p, logits.data(), labels, weights(), dlogits_.data(),
                                                           probs_.data());
  }
  // Loss only (evaluation); probabilities() holds the softmax afterwards.
  double forward(TensorView<const T> logits, const std::int32_t* labels) {
    const kernels::CrossEntropyParams p = params(logits);
    probs_.resize(logits.shape());
    return kernels::softmax_cross_entropy_forward(p, logits.data(), labels, weights(), probs_.data());
  }
  TensorView<const T> gradient() const { return dlogits_; }
  TensorView<const T> probabilities() const { return probs_; }

 private:
  kernels::CrossEntropyParams params(TensorView<const T> logits) const {
    MOODNET_CHECK(logits.rank() == 2, "cross-entropy expects logits [N, K], got shape ", logits.shape().str());
    MOODNET_CHECK(weights_.empty() || static_cast<std::int64_t>(weights_.size()) == logits.dim(1), "got ",
                  weights_.size(), " class weights for ", logits.dim(1), " classes");
    kernels::CrossEntropyParams p;
    p.N = logits.dim(0), p.K = logits.dim(1), p.label_smoothing = smoothing_;
    return p;
  }
  const T* weights() const { return weights_.empty() ? nullptr : weights_.data(); }

  double smoothing_;
  std::vector<T> weights_;
  Tensor<T> dlogits_, probs_;
};

}  // namespace moodnet
