#pragma once
// The flags every program that runs a trained model shares (predict, evaluate): --weights and
// --threads, and what they do.
//   train::ClassifierFlags model_flags;
//   model_flags.add_to(flags);  ...  flags.parse(argc, argv);
//   train::Classifier classifier = model_flags.load();
#include <string>

#include "moodnet/cli/flags.hpp"
#include "moodnet/core/parallel.hpp"
#include "moodnet/train/evaluate.hpp"

namespace moodnet::train {

struct ClassifierFlags {
  std::string weights;
  int threads = 2;

  void add_to(cli::FlagParser& flags) {
    flags.add("weights", &weights, "weights file (.safetensors) written by a moodnet trainer");
    flags.add("threads", &threads, "OpenMP threads").range(1, 1024);
  }
  // Sets the thread count and loads the model, its metadata and input normalisation from --weights
  // (one-line errors naming the file, see load_classifier).
  Classifier load() const {
    set_num_threads(threads);
    return load_classifier(weights);
  }
};

}  // namespace moodnet::train
