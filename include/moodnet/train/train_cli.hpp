#pragma once
// The command line of the example trainers: `train` (any registered model on any dataset) and the
// FER-2013 presets train_<model>, one per registered model. Flags in the usual style with --help,
// validated into a TrainConfig; defaults are the model's recipe documented in docs/results.md.
// Errors print one line (`error: ...`) and exit 2.
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>
#include <string_view>

#include "moodnet/cli/data_folders.hpp"
#include "moodnet/cli/flags.hpp"
#include "moodnet/data/idx.hpp"
#include "moodnet/io/training_state.hpp"
#include "moodnet/train/trainer.hpp"

namespace moodnet::train {

// The committed default recipe of a registered model (its registry Recipe, models/registry.hpp).
// Each finishes within 90 minutes on the 2-core machine of docs/results.md: the time budget (88 min,
// --time-budget 0 turns it off) shortens the schedule when a machine is slower. It applies only
// when --epochs is not given: an explicit length is kept (parse_and_run).
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
  c.data.fer2013_only = true;  // the train_<model> presets; `train` clears it
  c.data.validation = "public";
  return c;
}

// Registers every flag of the trainer on `flags`, bound to the fields of `c`.
inline void add_train_flags(cli::FlagParser& flags, TrainConfig& c) {
  const bool fer_only = c.data.fer2013_only;
  c.data.default_folders = cli::program_data_folders();  // what --data's help says
  flags.set_positional("", 0, 0);  // the dataset is --data: a stray word is an error, not ignored
  flags.add("data", &c.data.path,
            fer_only ? "FER-2013 folder (train/, test/) or fer2013.csv; default: $MOODNET_DATA, ../shared/fer2013, "
                       "data/fer2013, else the bundled sample"
                     : "dataset: an image folder (root/<class>/ or root/<split>/<class>/), a folder of IDX files "
                       "(*-images-idx3-ubyte[.gz]), a FER-2013 folder or fer2013.csv (docs/data.md); default: "
                       "FER-2013 where train_customnet looks")
      .non_empty();
  for (const SizeArg& a : find_model(c.model).size_args) {
    cli::Flag& f = flags.add(a.flag, &c.size[a.key], a.help).range(a.min, a.max);
    if (a.integer) f.integer();  // --width 8.7: an error naming the flag, not a width-8 model recorded as 9
  }
  flags.add("epochs", &c.epochs, "training epochs").range(1, 100000);
  flags.add("batch-size", &c.batch_size, "images per batch").range(2, 4096);
  flags.add_choice("optimizer", &c.optimizer, optimizer_names(), "optimizer");
  flags.add("lr", &c.lr, "peak learning rate").positive();
  flags.add("momentum", &c.momentum, "SGD momentum").min(0).max(0.999);
  flags.add("nesterov", &c.nesterov, "Nesterov momentum (SGD)");
  flags.add("weight-decay", &c.weight_decay, "weight decay (not on norm parameters and biases)").min(0);
  flags.add("norm-bias-lr-scale", &c.norm_bias_lr_scale,
            "learning-rate multiplier of batchnorm/groupnorm parameters and biases").positive();
  flags.add_choice("schedule", &c.schedule, {"cosine", "step", "onecycle", "plateau"}, "learning-rate schedule");
  flags.add("warmup-epochs", &c.warmup_epochs, "linear warm-up length (cosine, onecycle)").min(0);
  flags.add("tail-fraction", &c.tail_fraction,
            "the last fraction of the steps decays linearly to 0 from the schedule's rate there (0 = none)")
      .range(0, 1);
  flags.add("label-smoothing", &c.label_smoothing, "label smoothing of the cross-entropy").min(0).max(0.99);
  flags.add("class-weights", &c.class_weights, "weight the loss by inverse class frequency");
  flags.add("augment", &c.augment, "augmentation strength (0 = none, 1 = the FER-2013 recipe)").min(0).max(3);
  flags.add("erase", &c.erase, "random-erasing probability of the recipe at --augment 1 (scaled by min(augment, 1))")
      .range(0, 1);
  flags.add_choice("flip", &c.flip, {"random", "alternate", "none"},
                   "training flips: random (p 0.5), alternate (each image mirrored in every other epoch, from a "
                   "random phase) or none");
  flags.add("crop", &c.crop,
            fer_only ? "train on random crop x crop windows of the 48 x 48 images, test on the centre one (0 = off)"
                     : "train on random crop x crop windows of the stored images, test on the centre one (0 = off)")
      .min(0);
  flags.add("clip-grad-norm", &c.clip_grad_norm, "clip the global gradient norm (0 = off)").min(0);
  flags.add("threads", &c.threads, "OpenMP threads").range(1, 1024);
  flags.add("seed", &c.seed, "random seed (initialisation, batches, augmentation, dropout)");
  flags.add("out", &c.out, "output folder (weights, history, plots)");
  flags.add("resume", &c.resume,
            "continue the run saved in --out with its recorded flags (--epochs N extends it; a flag given with "
            "another value is refused)");
  flags.add("overwrite", &c.overwrite, "start a new run in --out even when it holds one (that run's files are removed)");
  if (fer_only)
    flags.add_choice("validation", &c.data.validation, {"public", "train"},
                     "validation split: PublicTest, or a stratified slice of train/");
  else
    flags.add_choice("validation", &c.data.validation, {"auto", "public", "train"},
                     "validation split: auto = FER-2013's PublicTest, else the dataset's val/ split, else a stratified "
                     "slice of train; public = PublicTest (FER-2013); train = a slice of train");
  flags.add("val-fraction", &c.data.val_fraction,
            fer_only ? "size of the train/ slice with --validation train"
                     : "size of each held-out slice of train (validation, and test when the dataset has no test split)")
      .greater_than(0)
      .max(0.9);
  flags.add_duration("time-budget", &c.time_budget,
                     "wall-clock budget: the run shortens its schedule to finish, with evaluation, within it (0 = none)");
  flags.add("max-steps", &c.max_steps, "stop after this many optimizer steps (0 = no limit)").min(0);
  flags.add_choice("tta", &c.tta, {"none", "flip", "tencrop"}, "test-time augmentation for the final test numbers");
  flags.add("ema", &c.ema,
            "decay of a moving average of the weights that validation, best.safetensors and the test numbers use "
            "(0 = off; e.g. 0.999; must be < 1)")
      .min(0);
  flags.add("ema-warmup", &c.ema_warmup, "ramp the average's decay up as min(ema, (1 + step) / (10 + step))");
  flags.add("save-every", &c.save_every, "also write every N-th epoch's weights to <out>/snapshots/ (0 = off)").min(0);
  flags.add("sync-bn", &c.sync_bn,
            "data-parallel runs (mpirun): batchnorm statistics over the global batch, not each rank's shard");
  flags.add("overlap-allreduce", &c.overlap_allreduce,
            "data-parallel runs (mpirun): average each bucket of gradients while the backward pass goes on "
            "(the same sums; docs/distributed.md says when it pays)");
  flags.add_choice("winograd", &c.winograd, {"off", "measured", "f2", "f4"},
                   "dense 3x3 stride-1 convolutions: off (the standard kernels), measured (Winograd F(2x2)/F(4x4) "
                   "for each layer and pass where it measures faster, chosen once and recorded for --resume), or "
                   "f2 / f4 (that tile on every such layer and pass, fast or not: accuracy experiments)");
  flags.add_choice("precision", &c.precision, {"fp32", "bf16"},
                   "matrix products of the convolutions: fp32, or bf16 (operands rounded to bfloat16, sums in "
                   "float, on Intel AMX; weights, gradients and optimizer state stay float; docs/kernels.md)");
}

// The flags of `train` alone: the stored image shape, whether a mirror image keeps the class, IDX
// class names.
inline void add_data_flags(cli::FlagParser& flags, TrainConfig& c, std::string& class_names) {
  flags.add("input-size", &c.data.input_size,
            "side the images are stored at (square; every split is resized to it by --resize); 0 = as stored, "
            "when all images have one size (FER-2013: 48)")
      .range(0, data::kMaxImageSide);
  flags.add("channels", &c.data.channels, "1 (gray, BT.601 luma) or 3 (RGB); 0 = as stored (RGB when any image is)")
      .range(0, 3);
  flags.add_choice("resize", &c.data.resize, {"crop", "stretch"},
                   "aspect rule to --input-size: crop (shorter side, centre crop) or stretch (default: crop; FER-2013 "
                   "stretch)");
  flags.add("hflip", &c.hflip,
            "a mirror image keeps the class (--no-hflip for digits, letters, text: no flips, and --tta none)");
  flags.add("class-names", &class_names, "IDX datasets: names of labels 0..K-1, comma-separated (default: numbered)");
}

namespace detail {
// The --model value of a command line (before the parser knows the model's size flags).
inline std::string model_on_command_line(int argc, const char* const* argv, const std::string& fallback) {
  std::string model = fallback;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--model" && i + 1 < argc) model = argv[++i];
    else if (a.rfind("--model=", 0) == 0) model = a.substr(8);
  }
  return model;
}
// `train --resume --out DIR` without --model: the model of the run in DIR (its size flags are the
// ones to register), else `fallback`.
inline std::string model_to_resume(int argc, const char* const* argv, const std::string& fallback) {
  bool resume = false;
  std::string out = "runs/" + fallback;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--model" || a.rfind("--model=", 0) == 0) return model_on_command_line(argc, argv, fallback);
    if (a == "--resume" || a == "--resume=true") resume = true;
    else if (a == "--out" && i + 1 < argc) out = argv[++i];
    else if (a.rfind("--out=", 0) == 0) out = a.substr(6);
  }
  const std::string state = out + "/last.state.safetensors";
  if (!resume || !std::filesystem::exists(state)) return fallback;
  try {
    const io::TrainingState s = io::load_training_state(state);
    if (s.has("flag.model")) return s.get_string("flag.model");
  } catch (const Error&) {  // the trainer reports a broken state
  }
  return fallback;
}

// Flags of one invocation (where, how fast and how far this process goes): neither the run's
// record nor restored by --resume.
inline bool is_invocation_flag(const std::string& name) {
  return name == "out" || name == "resume" || name == "overwrite" || name == "threads" || name == "max-steps" ||
         name == "overlap-allreduce";
}
// Flags a resume may give with another value: the run's length (--epochs re-plans it: trainer.hpp
// replan), the time budget, the dataset's path (the trainer compares its content) and the final TTA.
inline bool may_change_on_resume(const std::string& name) {
  return name == "epochs" || name == "time-budget" || name == "data" || name == "tta";
}
inline bool is_utf8(std::string_view s) {
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t n = static_cast<unsigned char>(s[i]) < 0x80 ? 1 : io::detail::utf8_sequence_length(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

// --resume: each flag the run in --out recorded (its training state's "flag.<name>") that is not
// on the command line takes the recorded value; one given with another value is refused, except
// those of may_change_on_resume. A state from before flags were recorded restores nothing (the
// trainer still compares the settings it records).
inline void restore_run_flags(cli::FlagParser& flags, const TrainConfig& c) {
  const std::string state = (std::filesystem::path(c.out) / "last.state.safetensors").string();
  if (!std::filesystem::exists(state)) return;  // the trainer says there is nothing to resume
  const io::TrainingState s = io::load_training_state(state);
  if (s.has("program") && s.get_string("program") != c.program)
    fail("--resume: the run in ", c.out, " was made by ", s.get_string("program"), ", with other settings than ",
         c.program, " has: resume it with ", s.get_string("program"));
  std::string conflicts;
  for (const auto& [name, text] : s.get_map("flag.")) {
    if (is_invocation_flag(name)) continue;
    if (!flags.has(name))
      fail("--resume: the run in ", c.out, " was made with --", name, ", a flag ", c.program, " ",
           MOODNET_VERSION_STRING, " does not have: start a new run");
    if (!flags.is_set(name)) {
      flags.set_value(name, text);
      continue;
    }
    if (may_change_on_resume(name)) continue;
    for (const cli::FlagValue& now : flags.values())
      if (now.name == name && now.text != text)
        conflicts.append(conflicts.empty() ? "--" : ", --")
            .append(name + " " + now.text + " (the run has " + (text.empty() ? "none" : text) + ")");
  }
  if (!conflicts.empty())
    fail("--resume: the run in ", c.out, " was trained with other settings: ", conflicts,
         "; leave these flags out to continue it as it was, or start a new run (another --out, or --overwrite)");
}

inline std::string size_flag_list(const ModelInfo& m) {
  std::string s;
  for (const SizeArg& a : m.size_args) s += (s.empty() ? "--" : ", --") + a.flag;
  return s.empty() ? "no size flags" : s;
}
// A size flag of another registered model, given to `model` (--alpha to customnet): its own error.
inline void check_foreign_size_flags(int argc, const char* const* argv, const ModelInfo& model) {
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.rfind("--", 0) != 0) continue;
    a = a.substr(2, a.find('=') == std::string::npos ? std::string::npos : a.find('=') - 2);
    bool own = false;
    for (const SizeArg& s : model.size_args) own = own || s.flag == a;
    if (own) continue;
    for (const ModelInfo& other : model_registry())
      for (const SizeArg& s : other.size_args)
        if (s.flag == a)
          fail("--", a, " is a size argument of ", other.name, ", not of ", model.name, " (--model ", model.name,
               " takes: ", size_flag_list(model), ")");
  }
}

// Parses the command line into `c` (--help and --version print and return 0), lets `finish`
// complete it from the parsed flags, and runs the trainer: 130 when Ctrl-C stopped it, else 0.
template <class Finish>
inline int parse_and_run(cli::FlagParser& flags, TrainConfig& c, int argc, const char* const* argv, TrainingGroup* group,
                         Finish finish) {
  flags.parse(argc, argv);
  if (const std::string text = flags.requested_text(); !text.empty()) {
    std::cout << text;
    return 0;
  }
  if (c.resume) restore_run_flags(flags, c);
  // An explicit --epochs is the run's length: the default time budget would cut it short.
  if (flags.is_set("epochs") && !flags.is_set("time-budget")) c.time_budget = 0;
  c.replan_epochs = c.resume && flags.is_set("epochs");
  finish();
  c.flags.clear();
  for (const cli::FlagValue& f : flags.values())  // (a name that is not UTF-8 cannot go into JSON: not recorded)
    if (!is_invocation_flag(f.name) && is_utf8(f.text)) c.flags.push_back(f);
  Trainer trainer(c, std::cout, group);
  const TrainResult r = trainer.run();
  return r.stopped_early && stop_requested() ? 130 : 0;
}
}  // namespace detail

// main() of `train`: --model NAME (any registered model, default customnet) with that model's
// size flags and recipe, on any dataset (--data).
// group: data-parallel training over its ranks (training_group.hpp), null for one process.
inline int train_any_main(int argc, const char* const* argv, TrainingGroup* group = nullptr) {
  return cli::guarded_main([&] {
    const std::string model = detail::model_to_resume(argc, argv, "customnet");
    const ModelInfo& info = find_model(model);  // "unknown model 'x' (registered: ...)"
    detail::check_foreign_size_flags(argc, argv, info);
    TrainConfig c = default_config(model);
    c.program = "train";
    c.data.fer2013_only = false;
    c.data.validation = "auto";
    std::string model_flag = model, class_names;
    cli::FlagParser flags("train", "Trains a registered model (" + model_names() +
                                       ") on an image dataset on the CPU: image folders, IDX files (gzip: " +
                                       (data::kHaveZlib ? "yes" : "no, not in this build") +
                                       ") or FER-2013. `train --model NAME --help` lists that model's size flags.");
    flags.add("model", &model_flag, "the network: " + model_names());
    add_train_flags(flags, c);
    add_data_flags(flags, c, class_names);
    return detail::parse_and_run(flags, c, argc, argv, group, [&] {
      c.data.class_names = parse_class_names(class_names);
      if (!c.hflip && flags.is_set("flip") && c.flip != "none")
        fail("--flip ", c.flip, " mirrors training images, but --no-hflip says a mirror image changes the class");
      if (!c.hflip && flags.is_set("tta") && c.tta != "none")
        fail("--tta ", c.tta, " mirrors the test images, but --no-hflip says a mirror image changes the class: use --tta none");
      if (!c.hflip) c.tta = "none";
    });
  });
}

// main() of the FER-2013 preset for the registered model `model` ("mobilenet", "customnet", ...).
inline int train_main(int argc, const char* const* argv, const std::string& model, TrainingGroup* group = nullptr) {
  return cli::guarded_main([&] {
    TrainConfig c = default_config(model);
    c.program = "train_" + model;
    cli::FlagParser flags("train_" + model, "Trains " + find_model(model).title + " on FER-2013 (7 moods) on the CPU.");
    add_train_flags(flags, c);
    return detail::parse_and_run(flags, c, argc, argv, group, [] {});
  });
}

}  // namespace moodnet::train
