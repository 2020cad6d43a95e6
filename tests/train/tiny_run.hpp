#pragma once
// Tiny training runs for the trainer's tests: two classes of 12 distinct 16x16 gray images
// (root/<class>/k.pgm; the stratified test and validation slices leave 20 training images, 5
// batches of 4 per epoch) and CustomNet w 8 trained on them with one thread, a few steps a second.
#include <filesystem>
#include <sstream>
#include <string>

#include "moodnet/train/trainer.hpp"
#include "../data/support.hpp"

namespace moodnet::test {

inline void write_tiny_run_data(const std::filesystem::path& root) {
  write_class_folders(root, "", {"left", "right"}, 12, 16);
}

// CustomNet w 8 on `data`, 3 epochs of batches of 4 at lr 0.05 (the one-cycle default), seed 5,
// one thread, no TTA, writing to `out`.
inline train::TrainConfig tiny_run_config(const std::filesystem::path& data, const std::filesystem::path& out) {
  train::TrainConfig c;
  c.model = "customnet";
  c.size = {{"w", 8}};
  c.data.path = data.string();
  c.epochs = 3;
  c.batch_size = 4;
  c.lr = 0.05;
  c.threads = 1;
  c.seed = 5;
  c.out = out.string();
  c.tta = "none";
  return c;
}

// Runs a trainer on `c`; its log into `log` when given.
inline train::TrainResult tiny_run(const train::TrainConfig& c, std::string* log = nullptr) {
  std::ostringstream out;
  train::Trainer t(c, out);
  const train::TrainResult r = t.run();
  if (log) *log = out.str();
  return r;
}

// Trains `c` into `out` in two runs: up to step `stop_at`, then (resumed) to c.max_steps; with
// c.resume set the first run resumes too, from the checkpoint already in `out`.
// Returns the resumed run's config (resume on, writing to `out`) for further resumes.
inline train::TrainConfig tiny_run_stopped_and_resumed(train::TrainConfig c, const std::filesystem::path& out,
                                                       int stop_at) {
  const auto end = c.max_steps;
  c.out = out.string();
  c.max_steps = stop_at;
  tiny_run(c);
  c.resume = true, c.max_steps = end;
  tiny_run(c);
  return c;
}

// Whether two runs' folders hold the same weights, bit for bit (their last.safetensors).
inline bool same_last_weights(const std::filesystem::path& a, const std::filesystem::path& b) {
  return read_bytes(a / "last.safetensors") == read_bytes(b / "last.safetensors");
}

}  // namespace moodnet::test
