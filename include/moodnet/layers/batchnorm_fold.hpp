#pragma once
// The eval-mode BatchNorm2d (with its fused ReLU, if any) that a convolution layer absorbs into its
// own forward pass (see fold_batchnorm_into_conv in layers/fusion.hpp).
//
// In eval mode the convolution hands the kernel the BatchNorm's per-channel map as an epilogue
// (kernels/channel_affine.hpp), applied to each output block while it is in cache, and tells the
// BatchNorm that its next eval forward receives an already normalised input (it then passes it
// through). In training mode nothing is folded: the BatchNorm needs its batch statistics.
// The results are bit-identical to the unfolded pair; the activation is read and written once less.
#include <cstdint>

#include "moodnet/core/tensor.hpp"
#include "moodnet/kernels/channel_affine.hpp"
#include "moodnet/layers/batchnorm2d.hpp"

namespace moodnet {

template <class T>
class FoldedBatchNorm {
 public:
  void attach(BatchNorm2d<T>* bn) {
    if (bn_ && bn_ != bn) bn_->set_input_normalized(false);
    bn_ = bn;
  }
  bool attached() const { return bn_ != nullptr; }

  // Call at the start of the convolution's forward. Returns the epilogue to apply (nullptr when
  // nothing is folded: no BatchNorm attached, or either layer in training mode).
  const kernels::ChannelAffine<T>* prepare(bool conv_training) {
    if (!bn_) return nullptr;
    const bool fold = !conv_training && !bn_->training();
    bn_->set_input_normalized(fold);
    if (!fold) return nullptr;
    bn_->eval_scale_shift(scale_, shift_);
    affine_ = {scale_.data(), shift_.data(), bn_->fused_relu()};
    return &affine_;
  }

 private:
  BatchNorm2d<T>* bn_ = nullptr;
  Tensor<T> scale_, shift_;  // [C], refreshed every eval forward (the weights may have changed)
  kernels::ChannelAffine<T> affine_;
};

}  // namespace moodnet
