#pragma once
// ParamArena<T>: a view of every trainable parameter of a network as two flat arrays, the form an
// optimizer and a checkpoint need (llm.c's malloc_and_point_parameters):
//
//   values  [P]   parameters back to back in state_dict order
//   grads   [P]   the same layout
//   slots         one per parameter: full state_dict name, offset and length in the arena, and
//                 whether weight decay applies to it
//
// It owns nothing: Model<T>::arena() hands out a view of the model's own storage, which stays put
// when the Model is moved. An optimizer keeps its state indexed by arena position, so it needs no
// knowledge of layers or models.
#include <cstdint>
#include <string>
#include <vector>

#include "moodnet/core/tensor.hpp"

namespace moodnet {

template <class T>
struct ParamArena {
  struct Slot {
    std::string name;     // "features.0.weight"
    std::int64_t offset;  // first element in values/grads
    std::int64_t numel;
    bool decay;  // weight decay applies (conv/linear weights, not norm parameters or biases)
  };

  TensorView<T> values;  // [P]
  TensorView<T> grads;   // [P]
  std::vector<Slot> slots;

  std::int64_t size() const { return values.numel(); }
};

}  // namespace moodnet
