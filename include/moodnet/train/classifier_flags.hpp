#pragma once
// The flags every program that runs a trained model shares (predict, evaluate): --weights and
// --threads, and what they do; and how such a program reads a dataset for the model.
//   train::ClassifierFlags model_flags;
//   model_flags.add_to(flags);  ...  flags.parse(argc, argv);
//   train::Classifier classifier = model_flags.load();
#include <string>

#include "moodnet/cli/flags.hpp"
#include "moodnet/core/parallel.hpp"
#include "moodnet/data/dataset_source.hpp"
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

// How to read a dataset for a trained model: at its stored shape (channels, and the size before
// any centre crop) by its aspect rule, with its classes.
inline data::ReadOptions read_options_for(const io::ModelMetadata& md) {
  data::ReadOptions o;
  const data::ImageShape s = md.stored_shape();
  o.channels = s.channels;
  o.height = s.height, o.width = s.width;
  o.resize = md.resize, o.resize_set = true;
  o.class_names = md.class_names;
  return o;
}

}  // namespace moodnet::train
