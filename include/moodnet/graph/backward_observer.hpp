#pragma once
// BackwardObserver<T>: told by Plan::backward when the pass starts and after each step's backward,
// so that work on finished parameter gradients can start while the pass goes on — data-parallel
// training averages each bucket of gradients over the ranks as soon as its last step is done
// (distributed/overlapped_gradients.hpp), as PyTorch's DDP does with its autograd hooks.
//
// Contract: backward_started(plan) comes first, with the plan whose steps follow; step_done(step)
// comes once for every step whose backward ran (in backward order, after the gradient sums the
// step causes). When step_done(s) is called, s.parameter_gradients() hold their final values for
// this pass: no parameter feeds two steps.
namespace moodnet::graph {

template <class T>
class Plan;
template <class T>
class Step;

template <class T>
class BackwardObserver {
 public:
  virtual ~BackwardObserver() = default;
  virtual void backward_started(const Plan<T>& plan) = 0;
  virtual void step_done(const Step<T>& step) = 0;
};

}  // namespace moodnet::graph
