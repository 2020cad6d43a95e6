#pragma once
// The flags every program that runs a trained model shares (predict, evaluate): --weights and
// --threads, and what they do; and how such a program reads a dataset for the model.
//   train::ClassifierFlags model_flags;
//   model_flags.add_to(flags);  ...  flags.parse(argc, argv);
//   train::Ensemble models = model_flags.load_ensemble();   // one file, or a,b,c averaged
// --weights a.safetensors,b.safetensors names an ensemble (train/ensemble.hpp); a value that is
// itself an existing file is one file even if its name holds a comma.
#include <filesystem>
#include <string>
#include <vector>

#include "moodnet/cli/flags.hpp"
#include "moodnet/core/parallel.hpp"
#include "moodnet/data/dataset_source.hpp"
#include "moodnet/train/ensemble.hpp"
#include "moodnet/train/evaluate.hpp"

namespace moodnet::train {

struct ClassifierFlags {
  std::string weights;
  int threads = 2;

  void add_to(cli::FlagParser& flags) {
    flags.add("weights", &weights,
              "weights file (.safetensors) written by a moodnet trainer; several, comma-separated, average their "
              "probabilities (an ensemble: same classes and image shape)")
        .metavar("FILE[,FILE...]");
    flags.add("threads", &threads, "OpenMP threads").range(1, 1024);
  }
  // Sets the thread count and loads the model, its metadata and input normalisation from --weights
  // (one-line errors naming the file, see load_classifier).
  Classifier load() const {
    set_num_threads(threads);
    return load_classifier(weights);
  }
  // The files --weights names: split at commas, unless the whole value is an existing file.
  std::vector<std::string> weights_files() const {
    std::error_code ec;
    if (weights.find(',') == std::string::npos || std::filesystem::is_regular_file(weights, ec)) return {weights};
    std::vector<std::string> files;
    for (std::size_t at = 0;;) {
      const std::size_t end = weights.find(',', at);
      files.push_back(weights.substr(at, end == std::string::npos ? std::string::npos : end - at));
      MOODNET_CHECK(!files.back().empty(), "--weights '", weights, "': an empty file name between commas");
      if (end == std::string::npos) return files;
      at = end + 1;
    }
  }
  // Sets the thread count and loads every file of --weights as one ensemble.
  Ensemble load_ensemble() const {
    set_num_threads(threads);
    MOODNET_CHECK(!weights.empty(), "--weights is required (a .safetensors file written by a moodnet trainer)");
    return Ensemble::load(weights_files());
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
