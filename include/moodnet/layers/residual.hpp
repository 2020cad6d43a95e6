#pragma once
// Residual: y = body(x) + shortcut(x), where the shortcut is the identity (when null) or a layer
// such as a 1x1 convolution (+ batchnorm) that matches the body's output shape.
//
// Backward: both branches see the same dy; dx = body.backward(dy) + shortcut.backward(dy)
// (for the identity shortcut, dx = body.backward(dy) + dy).
#include "moodnet/layers/layer.hpp"

namespace moodnet {

template <class T>
class Residual : public Layer<T> {
 public:
  explicit Residual(LayerPtr<T> body, LayerPtr<T> shortcut = nullptr)
      : body_(std::move(body)), shortcut_(std::move(shortcut)) {
    MOODNET_CHECK(body_ != nullptr, "Residual needs a body");
  }

  std::string type_name() const override { return "Residual"; }
  std::string describe() const override { return shortcut_ ? "projection shortcut" : "identity shortcut"; }
  Shape output_shape(const Shape& in) const override {
    const Shape b = body_->output_shape(in);
    const Shape s = shortcut_ ? shortcut_->output_shape(in) : in;
    MOODNET_CHECK(b == s, "Residual: body output ", b.str(), " does not match shortcut output ", s.str(),
                  " for input ", in.str());
    return b;
  }
  TensorView<const T> forward(TensorView<const T> x) override {
    output_shape(x.shape());  // validates before any work
    const TensorView<const T> b = body_->forward(x);
    const TensorView<const T> s = shortcut_ ? shortcut_->forward(x) : x;
    y_.resize(b.shape());
    add(b, s, y_);
    return y_;
  }
  TensorView<const T> backward(TensorView<const T> dy) override {
    const TensorView<const T> db = body_->backward(dy);
    const TensorView<const T> ds = shortcut_ ? shortcut_->backward(dy) : dy;
    dx_.resize(db.shape());
    add(db, ds, dx_);
    return dx_;
  }
  void set_training(bool training) override {
    Layer<T>::set_training(training);
    body_->set_training(training);
    if (shortcut_) shortcut_->set_training(training);
  }
  void for_each_child(const std::function<void(const std::string&, Layer<T>&)>& f) override {
    f("body", *body_);
    if (shortcut_) f("shortcut", *shortcut_);
  }

 private:
  static void add(TensorView<const T> a, TensorView<const T> b, TensorView<T> out) {
    const std::int64_t n = out.numel();
    const T* pa = a.data();
    const T* pb = b.data();
    T* po = out.data();
#pragma omp parallel for schedule(static)
    for (std::int64_t i = 0; i < n; ++i) po[i] = pa[i] + pb[i];
  }

  LayerPtr<T> body_, shortcut_;
  Tensor<T> y_, dx_;
};

}  // namespace moodnet
