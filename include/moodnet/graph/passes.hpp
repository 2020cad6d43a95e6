#pragma once
// Passes that rewrite a plan's flat step list before its memory is planned. Because the list is
// flat, each applies wherever its pattern occurs — inside residual bodies as well as in a chain.
// Every pass gives results bit-identical to the unrewritten list (tests/graph/passes.cpp).
//
//   fuse_norm_relu      BatchNorm2d/GroupNorm -> ReLU  ==>  one step computing max(0, norm(x)),
//                       forward and backward (the ReLU's mask is recomputed from x in backward)
//   fold_batchnorm      eval: Conv2d/DepthwiseConv2d -> BatchNorm2d  ==>  the convolution applies
//                       the batchnorm's per-channel map (and its fused ReLU) as its epilogue
//   fuse_add_relu       add -> ReLU (the residual join)  ==>  one pass forward, one backward
//
// A pattern matches only where the first step's output feeds nothing but the second step.
// (The fourth rewrite, no input gradient for the network's input, is a planning decision:
// graph/plan.hpp, PlanOptions::input_grad.)
#include <memory>
#include <string>
#include <vector>

#include "moodnet/graph/step.hpp"
#include "moodnet/graph/steps/conv.hpp"
#include "moodnet/graph/steps/eltwise.hpp"
#include "moodnet/graph/steps/norm.hpp"

namespace moodnet::graph {

struct PassOptions {
  bool fuse_norm_relu = true;
  bool fold_batchnorm = true;  // eval plans only
  bool fuse_add_relu = true;

  static PassOptions none() { return {false, false, false}; }
};

template <class T>
class StepList {
 public:
  StepList(std::vector<std::unique_ptr<Step<T>>>& steps, int& output) : steps_(steps), output_(output) {}

  // Steps (indices) reading value v; the plan's output counts as a reader too (index -1).
  std::vector<int> readers(int v) const {
    std::vector<int> r;
    for (std::size_t i = 0; i < steps_.size(); ++i)
      for (int in : steps_[i]->inputs)
        if (in == v) r.push_back(static_cast<int>(i));
    if (v == output_) r.push_back(-1);
    return r;
  }
  // The only reader of step i's output, or nullptr.
  Step<T>* sole_reader(std::size_t i) const {
    const std::vector<int> r = readers(steps_[i]->output);
    return r.size() == 1 && r[0] >= 0 ? steps_[static_cast<std::size_t>(r[0])].get() : nullptr;
  }
  // Removes `absorbed` (a one-input step reading `into`'s output): its readers read `into`'s output.
  void absorb(Step<T>& into, Step<T>& absorbed) {
    const int from = absorbed.output, to = into.output;
    into.fused.push_back(absorbed.module_type + (absorbed.name.empty() ? "" : " " + absorbed.name));
    for (auto& s : steps_)
      for (int& in : s->inputs)
        if (in == from) in = to;
    if (output_ == from) output_ = to;
    for (auto it = steps_.begin(); it != steps_.end(); ++it)
      if (it->get() == &absorbed) {
        steps_.erase(it);
        break;
      }
  }
  std::size_t size() const { return steps_.size(); }
  Step<T>& operator[](std::size_t i) { return *steps_[i]; }

 private:
  std::vector<std::unique_ptr<Step<T>>>& steps_;
  int& output_;
};

namespace detail {
template <class T>
inline bool is_relu(const Step<T>* s) {
  const auto* a = dynamic_cast<const ActivationStep<T>*>(s);
  return a && a->fn() == ActivationFn::relu;
}
// Calls rewrite(first, second) for each step whose output feeds only `second`; rewrite returns
// whether it absorbed `second` into `first`. Returns the number of rewrites.
template <class T, class Rewrite>
inline int for_each_sole_pair(StepList<T>& list, Rewrite&& rewrite) {
  int n = 0;
  for (std::size_t i = 0; i < list.size(); ++i) {
    Step<T>* next = list.sole_reader(i);
    if (next && rewrite(list[i], *next)) {
      list.absorb(list[i], *next);
      ++n;
    }
  }
  return n;
}
}  // namespace detail

template <class T>
inline int fuse_norm_relu(StepList<T>& list) {
  return detail::for_each_sole_pair(list, [](Step<T>& norm, Step<T>& next) {
    if (!detail::is_relu(&next)) return false;
    if (auto* bn = dynamic_cast<BatchNorm2dStep<T>*>(&norm); bn && !bn->fused_relu()) {
      bn->set_fused_relu(true);
      return true;
    }
    if (auto* gn = dynamic_cast<GroupNormStep<T>*>(&norm); gn && !gn->fused_relu()) {
      gn->set_fused_relu(true);
      return true;
    }
    return false;
  });
}

template <class T>
inline int fold_batchnorm(StepList<T>& list) {
  return detail::for_each_sole_pair(list, [](Step<T>& conv, Step<T>& next) {
    auto* bn = dynamic_cast<BatchNorm2dStep<T>*>(&next);
    if (!bn || bn->training()) return false;
    FoldedBatchNorm<T>* folded = nullptr;
    if (auto* dense = dynamic_cast<Conv2dStep<T>*>(&conv)) folded = &dense->folded();
    else if (auto* dw = dynamic_cast<DepthwiseConv2dStep<T>*>(&conv)) folded = &dw->folded();
    if (!folded || folded->active()) return false;
    folded->fold(bn->state(), bn->fused_relu());
    for (const auto& f : bn->fused) conv.fused.push_back(f);  // the ReLU the batchnorm had absorbed
    return true;
  });
}

template <class T>
inline int fuse_add_relu(StepList<T>& list) {
  return detail::for_each_sole_pair(list, [](Step<T>& add, Step<T>& next) {
    auto* a = dynamic_cast<AddStep<T>*>(&add);
    if (!a || a->fused_relu() || !detail::is_relu(&next)) return false;
    a->set_fused_relu(true);
    return true;
  });
}

// Runs the passes in their order (norm+ReLU before folding, so a folded batchnorm brings its ReLU).
template <class T>
inline void run_passes(StepList<T>& list, const PassOptions& o, bool training) {
  if (o.fuse_norm_relu) fuse_norm_relu(list);
  if (o.fold_batchnorm && !training) fold_batchnorm(list);
  if (o.fuse_add_relu) fuse_add_relu(list);
}

}  // namespace moodnet::graph
