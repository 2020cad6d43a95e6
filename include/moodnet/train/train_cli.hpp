#pragma once
// The command line of the example trainers (train_<model>, one per registered model): flags in the
// usual style with --help, validated into a TrainConfig; defaults are the recipe documented in
// docs/results.md. Errors print one line (`error: ...`) and exit 2.
#include <cstdlib>
#include <iostream>
#include <string>

#include "moodnet/cli/flags.hpp"
#include "moodnet/train/trainer.hpp"

namespace moodnet::train {

// The committed default recipe of a registered model (its registry Recipe, models/registry.hpp).
// Each finishes within 90 minutes on the 2-core machine of docs/results.md: the time budget (88 min,
// --time-budget 0 turns it off) shortens the schedule when a machine is slower.
inline TrainConfig default_config(const std::string& model) {
  const ModelInfo& info = find_model(model);
  TrainConfig c;
  c.model = model;
  c.out = "runs/" + model;
  c.time_budget = 88 * 60;
  c.size = resolve_size_args(info, info.recipe.size);
  c.epochs = info.recipe.epochs;
  c.batch_size = info.recipe.batch_size;
  c.lr = info.recipe.lr;
  c.weight_decay = info.recipe.weight_decay;
  return c;
}

// Registers every flag of the trainer on `flags`, bound to the fields of `c`.
inline void add_train_flags(cli::FlagParser& flags, TrainConfig& c, double& seed) {
  flags.add("data", &c.data,
            "FER-2013 folder (train/, test/) or fer2013.csv; default: $MOODNET_DATA, ../shared/fer2013, "
            "data/fer2013, else the bundled sample");
  for (const SizeArg& a : find_model(c.model).size_args) flags.add(a.flag, &c.size[a.key], a.help).range(a.min, a.max);
  flags.add("epochs", &c.epochs, "training epochs").range(1, 100000);
  flags.add("batch-size", &c.batch_size, "images per batch").range(2, 4096);
  flags.add_choice("optimizer", &c.optimizer, {"sgd", "adam", "adamw"}, "optimizer");
  flags.add("lr", &c.lr, "peak learning rate").positive();
  flags.add("momentum", &c.momentum, "SGD momentum").min(0).max(0.999);
  flags.add("nesterov", &c.nesterov, "Nesterov momentum (SGD)");
  flags.add("weight-decay", &c.weight_decay, "weight decay (not on norm parameters and biases)").min(0);
  flags.add_choice("schedule", &c.schedule, {"cosine", "step", "onecycle", "plateau"}, "learning-rate schedule");
  flags.add("warmup-epochs", &c.warmup_epochs, "linear warm-up length (cosine, onecycle)").min(0);
  flags.add("label-smoothing", &c.label_smoothing, "label smoothing of the cross-entropy").min(0).max(0.99);
  flags.add("class-weights", &c.class_weights, "weight the loss by inverse class frequency");
  flags.add("augment", &c.augment, "augmentation strength (0 = none, 1 = the FER-2013 recipe)").min(0).max(3);
  flags.add("clip-grad-norm", &c.clip_grad_norm, "clip the global gradient norm (0 = off)").min(0);
  flags.add("threads", &c.threads, "OpenMP threads").range(1, 1024);
  flags.add("seed", &seed, "random seed (initialisation, batches, augmentation, dropout)").min(0);
  flags.add("out", &c.out, "output folder (weights, history, plots)");
  flags.add("resume", &c.resume, "continue the run saved in --out");
  flags.add_choice("validation", &c.validation, {"public", "train"},
                   "validation split: PublicTest, or a stratified slice of train/");
  flags.add("val-fraction", &c.val_fraction, "size of the train/ slice with --validation train").greater_than(0).max(0.9);
  flags.add_duration("time-budget", &c.time_budget,
                     "wall-clock budget: the run shortens its schedule to finish, with evaluation, within it (0 = none)");
  flags.add("max-steps", &c.max_steps, "stop after this many optimizer steps (0 = no limit)").min(0);
  flags.add_choice("tta", &c.tta, {"none", "flip", "tencrop"}, "test-time augmentation for the final test numbers");
}

// main() of a trainer for the registered model `model` ("mobilenet", "customnet", ...).
inline int train_main(int argc, const char* const* argv, const std::string& model) {
  return cli::guarded_main([&] {
    TrainConfig c = default_config(model);
    double seed = static_cast<double>(c.seed);
    cli::FlagParser flags("train_" + model, "Trains " + find_model(model).title + " on FER-2013 (7 moods) on the CPU.");
    add_train_flags(flags, c, seed);
    flags.parse(argc, argv);
    if (flags.help_requested()) {
      std::cout << flags.help();
      return 0;
    }
    c.seed = static_cast<std::uint64_t>(seed);
    Trainer trainer(c);
    const TrainResult r = trainer.run();
    return r.stopped_early && stop_requested() ? 130 : 0;
  });
}

}  // namespace moodnet::train
