#pragma once
// Sequential: children applied in order; each child has a name ("0", "1", ... by default, or given,
// e.g. "features", "fc"), which makes the PyTorch state_dict names ("features.0.weight").
//
// Emits the children in order, each inside a builder scope named after it (so its steps carry the
// state_dict prefix); the plan runs their backward in reverse: dx_i = child_i.backward(dx_{i+1}).
#include <string>
#include <utility>
#include <vector>

#include "moodnet/layers/layer.hpp"

namespace moodnet {

template <class T>
class Sequential : public Layer<T> {
 public:
  Sequential() = default;

  // Appends a child named by its index, or by `name`. Returns *this for chaining.
  Sequential& add(LayerPtr<T> layer, std::string name = {}) {
    MOODNET_CHECK(layer != nullptr, "Sequential::add got a null layer");
    if (name.empty()) name = std::to_string(children_.size());
    for (const auto& c : children_) MOODNET_CHECK(c.first != name, "Sequential already has a child named '", name, "'");
    children_.emplace_back(std::move(name), std::move(layer));
    return *this;
  }
  template <class L, class... Args>
  L& emplace(Args&&... args) {
    auto p = std::make_unique<L>(std::forward<Args>(args)...);
    L& ref = *p;
    add(std::move(p));
    return ref;
  }

  std::size_t size() const { return children_.size(); }
  Layer<T>& operator[](std::size_t i) { return *children_[i].second; }
  const std::string& child_name(std::size_t i) const { return children_[i].first; }

  std::string type_name() const override { return "Sequential"; }
  Shape output_shape(const Shape& input) const override {
    Shape s = input;
    for (const auto& c : children_) s = c.second->output_shape(s);
    return s;
  }
  graph::Value emit(graph::PlanBuilder<T>& b, graph::Value x) override {
    for (auto& c : children_) {
      typename graph::PlanBuilder<T>::Scope scope(b, c.first);
      x = c.second->emit(b, x);
    }
    return x;
  }
  void set_training(bool training) override {
    Layer<T>::set_training(training);
    for (auto& c : children_) c.second->set_training(training);
  }
  void for_each_child(const std::function<void(const std::string&, Layer<T>&)>& f) override {
    for (auto& c : children_) f(c.first, *c.second);
  }

 private:
  std::vector<std::pair<std::string, LayerPtr<T>>> children_;
};

}  // namespace moodnet
