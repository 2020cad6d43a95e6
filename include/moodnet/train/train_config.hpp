#pragma once
// What a training run is asked to do (TrainConfig: the trainers' flags, train/train_cli.hpp), its
// one-line validation, the learning-rate schedule it implies, and what a run reports (TrainResult).
// The run itself: train/trainer.hpp.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "moodnet/cli/flags.hpp"
#include "moodnet/core/error.hpp"
#include "moodnet/models/registry.hpp"
#include "moodnet/optim/linear_tail.hpp"
#include "moodnet/optim/lr_schedule.hpp"
#include "moodnet/optim/optimizers.hpp"
#include "moodnet/train/evaluate.hpp"
#include "moodnet/train/train_data.hpp"

namespace moodnet::train {

struct TrainConfig {
  std::string model = "customnet";  // a registered model (models/registry.hpp)
  SizeArgs size;                    // its size arguments ({{"w", 32}}); missing ones take the model's defaults
  DataConfig data;                  // --data, its splits and shape (train/train_data.hpp)
  int crop = 0;                     // train on random crop x crop windows, test on the centre one (0 = none)
  bool hflip = true;                // random horizontal flips (off where a mirror image changes the class)
  std::string flip = "random";      // how training flips: random | alternate (each image every other epoch) | none
  int epochs = 30;
  std::int64_t batch_size = 64;
  std::string optimizer = "sgd";
  double lr = 0.05, momentum = 0.9, weight_decay = 5e-4;
  double norm_bias_lr_scale = 1;  // learning rate of norm parameters and biases = lr x this
  bool nesterov = true;
  std::string schedule = "onecycle";  // cosine | step | onecycle | plateau
  double tail_fraction = 0;           // the last fraction of the steps decays linearly to 0 (0 = none)
  double warmup_epochs = 1;
  double label_smoothing = 0.1;
  bool class_weights = false;  // weight classes by N / (K * count)
  double augment = 1.0;        // strength of the FER-2013 augmentation recipe (0 = none)
  double erase = 0.5;          // the recipe's random-erasing probability at augment 1 (scaled with it)
  double clip_grad_norm = 0;
  int threads = 2;
  std::uint64_t seed = 1;
  std::string out = "runs/customnet";
  bool resume = false;
  bool overwrite = false;      // a fresh run may replace the run --out holds (else it refuses the folder)
  bool replan_epochs = false;  // --resume with --epochs given: the run is re-planned to `epochs` epochs
  // How the run was asked for (train_cli.hpp): the program and the value of every flag that shapes
  // the run (all but --out, --resume, --overwrite, --threads, --max-steps, --overlap-allreduce). Recorded in
  // <out>/config.json, the training state ("program", "flag.<name>", which --resume restores) and
  // every weights file's metadata ("program", "flags"); empty for a run set up in code.
  std::string program;
  std::vector<cli::FlagValue> flags;
  double time_budget = 0;     // seconds of wall clock for the whole run (0 = no limit)
  std::int64_t max_steps = 0;  // stop after this many optimizer steps (0 = no limit; smoke tests)
  std::string tta = "flip";   // test-time augmentation for the final test numbers: none | flip | tencrop
  double ema = 0;             // decay of the weights' moving average, which is evaluated and shipped (0 = off)
  bool ema_warmup = true;     // its decay ramps up as min(ema, (1 + step) / (10 + step))
  int save_every = 0;         // also write the weights of every N-th epoch to <out>/snapshots/ (0 = never)
  bool sync_bn = false;       // data parallel: batchnorm statistics over the global batch, not each rank's shard
  bool overlap_allreduce = false;  // data parallel: average gradient buckets while backward runs (same sums)
  std::string winograd = "off";    // dense 3x3 convolutions: off | measured (per layer and pass, graph/conv_algorithm.hpp)
                                   // | f2 | f4 (that tile on every such layer and pass: accuracy experiments)
  std::string precision = "fp32";  // matrix products: fp32 | bf16 (AMX, fp32 sums; kernels/matmul_precision.hpp)
};

// One-line validation of a configuration; every message names the flag and value.
inline void validate(const TrainConfig& c) {
  const ModelInfo& info = find_model(c.model);
  resolve_size_args(info, c.size);  // no argument the model does not take
  for (const SizeArg& a : info.size_args)
    if (c.size.count(a.key)) check_size_arg(a, c.size.at(a.key), "--" + a.flag);
  validate(c.data);
  MOODNET_CHECK(c.crop >= 0, "--crop must be >= 0, got ", c.crop);
  MOODNET_CHECK(c.epochs >= 1, "--epochs must be >= 1, got ", c.epochs);
  MOODNET_CHECK(c.batch_size >= 2, "--batch-size must be >= 2 (batchnorm needs two samples), got ", c.batch_size);
  MOODNET_CHECK(c.lr > 0, "--lr must be > 0, got ", c.lr);
  MOODNET_CHECK(c.schedule == "cosine" || c.schedule == "step" || c.schedule == "onecycle" || c.schedule == "plateau",
                "--schedule must be cosine, step, onecycle or plateau, got '", c.schedule, "'");
  MOODNET_CHECK(c.warmup_epochs >= 0, "--warmup-epochs must be >= 0, got ", c.warmup_epochs);
  MOODNET_CHECK(c.label_smoothing >= 0 && c.label_smoothing < 1, "--label-smoothing must be in [0, 1), got ",
                c.label_smoothing);
  MOODNET_CHECK(c.flip == "random" || c.flip == "alternate" || c.flip == "none",
                "--flip must be random, alternate or none, got '", c.flip, "'");
  MOODNET_CHECK(c.hflip || c.flip != "alternate",
                "--flip alternate mirrors training images, but --no-hflip says a mirror image changes the class");
  MOODNET_CHECK(c.flip != "alternate" || c.augment > 0,
                "--flip alternate says when the recipe's flips happen, but --augment 0 has none (use --augment > 0)");
  MOODNET_CHECK(c.erase >= 0 && c.erase <= 1, "--erase must be a probability in [0, 1], got ", c.erase);
  MOODNET_CHECK(c.tail_fraction >= 0 && c.tail_fraction <= 1, "--tail-fraction must be in [0, 1], got ",
                c.tail_fraction);
  MOODNET_CHECK(c.norm_bias_lr_scale > 0 && std::isfinite(c.norm_bias_lr_scale),
                "--norm-bias-lr-scale must be > 0, got ", c.norm_bias_lr_scale);
  MOODNET_CHECK(c.threads >= 1, "--threads must be >= 1, got ", c.threads);
  MOODNET_CHECK(!c.out.empty(), "--out must name a folder");
  MOODNET_CHECK(!(c.resume && c.overwrite), "--resume continues the run in --out ", c.out,
                " and --overwrite replaces it: give one of them");
  MOODNET_CHECK(c.ema >= 0 && c.ema < 1, "--ema must be a decay in [0, 1) (0 = off; e.g. 0.999), got ", c.ema);
  MOODNET_CHECK(c.save_every >= 0, "--save-every must be >= 0 (0 = off), got ", c.save_every);
  check_optimizer_name(c.optimizer);
  parse_tta(c.tta);
  MOODNET_CHECK(c.winograd == "off" || c.winograd == "measured" || c.winograd == "f2" || c.winograd == "f4",
                "--winograd must be off, measured, f2 or f4, got '", c.winograd, "'");
  MOODNET_CHECK(c.precision == "fp32" || c.precision == "bf16", "--precision must be fp32 or bf16, got '",
                c.precision, "'");
  MOODNET_CHECK(c.precision == "fp32" || c.winograd == "off", "--precision bf16 runs the 3x3 layers on AMX, not "
                "Winograd: use it with --winograd off, got --winograd ", c.winograd);
}

// The --schedule of a configuration for a run of `total_steps` optimizer steps (make_schedule adds
// the tail).
inline std::unique_ptr<LrSchedule> make_base_schedule(const TrainConfig& c, std::int64_t steps_per_epoch,
                                                      std::int64_t total_steps) {
  const auto warmup = static_cast<std::int64_t>(std::llround(c.warmup_epochs * steps_per_epoch));
  if (c.schedule == "cosine")
    return std::make_unique<WarmupCosineLr>(c.lr, std::min(warmup, total_steps - 1), total_steps, c.lr * 1e-3);
  if (c.schedule == "onecycle") {
    const double pct = std::clamp(static_cast<double>(std::max<std::int64_t>(warmup, 2)) / total_steps, 0.05, 0.5);
    return std::make_unique<OneCycleLr>(c.lr, std::max<std::int64_t>(total_steps, 4), pct);
  }
  if (c.schedule == "step") {
    // x0.1 at 50% and 75% of the run.
    return std::make_unique<MultiStepLr>(c.lr, std::vector<std::int64_t>{total_steps / 2, total_steps * 3 / 4}, 0.1);
  }
  ReduceLrOnPlateau::Options o;
  o.factor = 0.5, o.patience = 3;
  return std::make_unique<ReduceLrOnPlateau>(c.lr, o);
}

// The learning-rate schedule of a configuration: the --schedule, its last --tail-fraction of the
// steps decaying linearly to 0 from the rate it gives there (optim/linear_tail.hpp).
inline std::unique_ptr<LrSchedule> make_schedule(const TrainConfig& c, std::int64_t steps_per_epoch,
                                                 std::int64_t total_steps) {
  std::unique_ptr<LrSchedule> s = make_base_schedule(c, steps_per_epoch, total_steps);
  if (c.tail_fraction > 0) s = std::make_unique<LinearTailLr>(std::move(s), total_steps, c.tail_fraction);
  return s;
}

// What a finished (or stopped) run reports.
struct TrainResult {
  int epochs_done = 0;
  double best_val_acc = 0;
  int best_epoch = 0;
  bool stopped_early = false;  // Ctrl-C, time budget or max_steps
  // The test splits with the chosen TTA: PrivateTest and Public+Private on FER-2013; on another
  // dataset its test split is private_* (all_* stay 0).
  std::int64_t private_correct = 0, private_total = 0, all_correct = 0, all_total = 0;
};

}  // namespace moodnet::train
