#pragma once
// The training loop shared by train_mobilenet and train_customnet: FER-2013 in, a trained mood
// classifier, its curves, confusion matrices and test accuracy out.
//
//   for epoch:  for batch:  set_step, zero_grad, forward, cross-entropy, backward, lr, step
//               evaluate on the validation split; history.csv + PNG curves; last/best weights
//   then:       best weights -> PrivateTest and Public+Private accuracy, confusion matrices
//
// Everything a resumed run needs is in <out>/last.safetensors (weights, BN buffers) and
// <out>/last.state.safetensors (optimizer moments, schedule, step, epoch, position in the epoch,
// running sums), written atomically after every epoch and on a stop (Ctrl-C, time budget). The
// batches are a pure function of (seed, epoch) and dropout of (seed, step), so a resumed run
// reaches the same weights as an uninterrupted one.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "moodnet/core/duration.hpp"
#include "moodnet/core/parallel.hpp"
#include "moodnet/data/augment.hpp"
#include "moodnet/data/fer2013.hpp"
#include "moodnet/data/loader.hpp"
#include "moodnet/data/normalize.hpp"
#include "moodnet/io/atomic_file.hpp"
#include "moodnet/io/model_checkpoint.hpp"
#include "moodnet/io/training_state.hpp"
#include "moodnet/loss/cross_entropy.hpp"
#include "moodnet/models/registry.hpp"
#include "moodnet/optim/lr_schedule.hpp"
#include "moodnet/optim/optimizer.hpp"
#include "moodnet/train/evaluate.hpp"
#include "moodnet/train/history.hpp"
#include "moodnet/train/metrics.hpp"
#include "moodnet/train/plot.hpp"
#include "moodnet/train/progress.hpp"
#include "moodnet/train/signal.hpp"

namespace moodnet::train {

struct TrainConfig {
  std::string model = "customnet";  // a registered model (models/registry.hpp)
  SizeArgs size;                    // its size arguments ({{"w", 32}}); missing ones take the model's defaults
  std::string data;                 // dataset folder or fer2013.csv ("" = lookup, see resolve_data_dir)
  std::string validation = "public";  // public (PublicTest) | train (a stratified slice of train/)
  double val_fraction = 0.1;
  int epochs = 30;
  std::int64_t batch_size = 64;
  std::string optimizer = "sgd";
  double lr = 0.05, momentum = 0.9, weight_decay = 5e-4;
  bool nesterov = true;
  std::string schedule = "onecycle";  // cosine | step | onecycle | plateau
  double warmup_epochs = 1;
  double label_smoothing = 0.1;
  bool class_weights = false;  // weight classes by N / (K * count)
  double augment = 1.0;        // strength of the FER-2013 augmentation recipe (0 = none)
  double clip_grad_norm = 0;
  int threads = 2;
  std::uint64_t seed = 1;
  std::string out = "runs/customnet";
  bool resume = false;
  double time_budget = 0;     // seconds of wall clock for the whole run (0 = no limit)
  std::int64_t max_steps = 0;  // stop after this many optimizer steps (0 = no limit; smoke tests)
  std::string tta = "flip";   // test-time augmentation for the final test numbers: none | flip | tencrop
};

// One-line validation of a configuration; every message names the flag and value.
inline void validate(const TrainConfig& c) {
  const ModelInfo& info = find_model(c.model);
  resolve_size_args(info, c.size);  // no argument the model does not take
  for (const SizeArg& a : info.size_args)
    if (c.size.count(a.key)) check_size_arg(a, c.size.at(a.key), "--" + a.flag);
  MOODNET_CHECK(c.validation == "public" || c.validation == "train", "--validation must be public or train, got '",
                c.validation, "'");
  MOODNET_CHECK(c.val_fraction > 0 && c.val_fraction < 1, "--val-fraction must be in (0, 1), got ", c.val_fraction);
  MOODNET_CHECK(c.epochs >= 1, "--epochs must be >= 1, got ", c.epochs);
  MOODNET_CHECK(c.batch_size >= 2, "--batch-size must be >= 2 (batchnorm needs two samples), got ", c.batch_size);
  MOODNET_CHECK(c.lr > 0, "--lr must be > 0, got ", c.lr);
  MOODNET_CHECK(c.schedule == "cosine" || c.schedule == "step" || c.schedule == "onecycle" || c.schedule == "plateau",
                "--schedule must be cosine, step, onecycle or plateau, got '", c.schedule, "'");
  MOODNET_CHECK(c.warmup_epochs >= 0, "--warmup-epochs must be >= 0, got ", c.warmup_epochs);
  MOODNET_CHECK(c.label_smoothing >= 0 && c.label_smoothing < 1, "--label-smoothing must be in [0, 1), got ",
                c.label_smoothing);
  MOODNET_CHECK(c.threads >= 1, "--threads must be >= 1, got ", c.threads);
  MOODNET_CHECK(!c.out.empty(), "--out must name a folder");
  parse_optimizer_kind(c.optimizer);
  parse_tta(c.tta);
}

// The learning-rate schedule of a configuration for a run of `total_steps` optimizer steps.
inline std::unique_ptr<LrSchedule> make_schedule(const TrainConfig& c, std::int64_t steps_per_epoch,
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

// What a finished (or stopped) run reports.
struct TrainResult {
  int epochs_done = 0;
  double best_val_acc = 0;
  int best_epoch = 0;
  bool stopped_early = false;  // Ctrl-C, time budget or max_steps
  std::int64_t private_correct = 0, private_total = 0, all_correct = 0, all_total = 0;
};

class Trainer {
 public:
  explicit Trainer(TrainConfig config, std::ostream& out = std::cout) : c_(std::move(config)), log_(out) {
    validate(c_);
  }

  TrainResult run() {
    const auto t_start = std::chrono::steady_clock::now();
    auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count(); };
    set_num_threads(c_.threads);
    std::filesystem::create_directories(c_.out);
    const std::string last_weights = path("last.safetensors"), last_state = path("last.state.safetensors");
    const std::string best_weights = path("best.safetensors");

    // ---- data ---------------------------------------------------------------------------------
    const data::DataLocation where = data::resolve_data_dir(c_.data);
    if (where.is_sample)
      log_ << "notice: using the small bundled sample at " << where.path.string()
           << " (set --data or $MOODNET_DATA to the full FER-2013 for real accuracy)\n";
    log_ << "data: " << where.path.string() << " (" << where.source << ")\n";
    data::Dataset train_set = data::load_fer2013(where, data::Split::train);
    data::Dataset val_set;
    if (c_.validation == "train") {
      auto [rest, held] = data::split_stratified(train_set, c_.val_fraction, c_.seed);
      train_set = std::move(rest);
      val_set = std::move(held);
    } else {
      val_set = data::load_fer2013(where, data::Split::public_test);
    }
    const data::Dataset private_set = data::load_fer2013(where, data::Split::private_test);
    const data::Dataset test_set = data::load_fer2013(where, data::Split::test);
    const data::Normalization norm = data::compute_normalization(train_set);
    log_ << "train " << train_set.size() << " images, validation " << val_set.size() << " ("
         << (c_.validation == "train" ? "held-out slice of train" : "PublicTest") << "), PrivateTest "
         << private_set.size() << ", Public+Private " << test_set.size() << "; input mean " << norm.mean.at(0) << " std "
         << norm.std.at(0) << "\n";

    // ---- model, loss, optimizer --------------------------------------------------------------------
    io::ModelMetadata md;
    md.model = c_.model;
    md.size = resolve_size_args(find_model(c_.model), c_.size);
    md.input = Shape{1, data::kImageSize, data::kImageSize};
    md.class_names = train_set.class_names;
    md.input_mean = norm.mean.at(0);  // FER-2013: one (gray) channel
    md.input_std = norm.std.at(0);
    Model<float> model = io::make_model<float>(md, c_.seed);
    log_ << model.summary(c_.batch_size);

    std::vector<float> class_w;
    if (c_.class_weights) {
      const auto counts = train_set.class_counts();
      for (auto n : counts)
        class_w.push_back(static_cast<float>(double(train_set.size()) / (double(counts.size()) * std::max<double>(1, n))));
    }
    CrossEntropyLoss<float> loss(c_.label_smoothing, class_w);
    OptimizerConfig oc;
    oc.kind = parse_optimizer_kind(c_.optimizer);
    oc.lr = c_.lr, oc.momentum = c_.momentum, oc.nesterov = c_.nesterov && oc.kind == OptimizerKind::sgd;
    oc.weight_decay = c_.weight_decay, oc.clip_grad_norm = c_.clip_grad_norm;
    Optimizer<float> opt(model.arena(), oc);

    data::LoaderOptions lo;
    lo.batch_size = c_.batch_size;
    lo.drop_last = train_set.size() > c_.batch_size;  // keep BN batches full-sized
    lo.seed = c_.seed;
    lo.augment = data::AugmentConfig::fer2013(c_.augment);
    lo.norm = norm;
    data::BatchLoader loader(train_set, lo);
    const std::int64_t steps_per_epoch = loader.batches_per_epoch();

    // ---- state (fresh or resumed) -------------------------------------------------------------------
    int epochs_total = c_.epochs, epoch = 0;
    std::int64_t step = 0, batch_in_epoch = 0;
    double sum_loss = 0, best_val = -1;
    std::int64_t sum_correct = 0, sum_seen = 0;
    int best_epoch = 0;
    std::vector<EpochRecord> history;
    std::unique_ptr<LrSchedule> schedule = make_schedule(c_, steps_per_epoch, epochs_total * steps_per_epoch);
    if (c_.resume) {
      MOODNET_CHECK(std::filesystem::exists(last_state), "--resume: no training state ", last_state,
                    " (start without --resume)");
      const io::TrainingState s = io::load_training_state(last_state);
      MOODNET_CHECK(s.get_string("model") == c_.model && same_size_args(s, md.size) &&
                        s.get_uint("seed") == c_.seed && s.get_string("optimizer") == c_.optimizer &&
                        s.get_string("schedule") == c_.schedule && s.get_int("batch_size") == c_.batch_size,
                    "--resume: ", last_state, " was written by a run with other settings (model ",
                    s.get_string("model"), ", ", saved_size_args(s), ", seed ", s.get_string("seed"),
                    ", optimizer ", s.get_string("optimizer"), ", schedule ", s.get_string("schedule"),
                    ", batch size ", s.get_string("batch_size"), "): resume with the same flags");
      io::load_weights(last_weights, model);
      epochs_total = static_cast<int>(s.get_int("epochs_total"));
      epoch = static_cast<int>(s.get_int("epoch"));
      batch_in_epoch = s.get_int("batch_in_epoch");
      step = s.get_int("step");
      sum_loss = s.get_double("sum_loss");
      sum_correct = s.get_int("sum_correct");
      sum_seen = s.get_int("sum_seen");
      best_val = s.get_double("best_val_acc");
      best_epoch = static_cast<int>(s.get_int("best_epoch"));
      for (auto& [name, buf] : opt.state_buffers()) s.copy_buffer(name, buf.data(), {buf.numel()});
      opt.set_steps(s.get_int("optimizer_steps"));
      schedule = make_schedule(c_, steps_per_epoch, epochs_total * steps_per_epoch);
      schedule->load_state(s.get_map("schedule."));
      if (std::filesystem::exists(path("history.csv"))) history = read_history_csv(path("history.csv"));
      history.resize(std::min<std::size_t>(history.size(), static_cast<std::size_t>(epoch)));
      log_ << "resumed from " << last_state << " at epoch " << epoch + 1 << ", batch " << batch_in_epoch << ", step "
           << step << "\n";
    }

    auto save_state = [&] {
      io::save_weights(last_weights, model, md);
      io::TrainingState s;
      s.set_string("model", c_.model);
      for (const auto& [key, v] : md.size) s.set_double("size." + key, v);
      s.set_uint("seed", c_.seed);
      s.set_string("optimizer", c_.optimizer);
      s.set_string("schedule", c_.schedule);
      s.set_int("batch_size", c_.batch_size);
      s.set_int("epochs_total", epochs_total);
      s.set_int("epoch", epoch);
      s.set_int("batch_in_epoch", batch_in_epoch);
      s.set_int("step", step);
      s.set_double("sum_loss", sum_loss);
      s.set_int("sum_correct", sum_correct);
      s.set_int("sum_seen", sum_seen);
      s.set_double("best_val_acc", best_val);
      s.set_int("best_epoch", best_epoch);
      s.set_int("optimizer_steps", opt.steps());
      s.set_map("schedule.", schedule->state());
      for (auto& [name, buf] : opt.state_buffers()) s.add_buffer(name, buf.data(), {buf.numel()});
      io::save_training_state(last_state, s);
    };

    // ---- the loop -------------------------------------------------------------------------------
    StopSignalGuard stop_guard;
    TrainResult result;
    std::vector<std::int32_t> predicted(static_cast<std::size_t>(c_.batch_size));
    double epoch_time_sum = 0;
    int epochs_timed = 0;
    bool stop = false;
    while (epoch < epochs_total && !stop) {
      const auto t_epoch = std::chrono::steady_clock::now();
      model.train();
      loader.start_epoch(epoch, batch_in_epoch);
      char prefix[32];
      std::snprintf(prefix, sizeof prefix, "epoch %d/%d", epoch + 1, epochs_total);
      ProgressBar bar(log_, steps_per_epoch, &log_ == &std::cout && is_terminal(stdout), prefix);
      while (auto batch = loader.next()) {
        model.set_step(static_cast<std::uint64_t>(step));
        model.zero_grad();
        const TensorView<const float> logits = model.forward(batch->images);
        const double l = loss.forward_backward(logits, batch->labels.data());
        MOODNET_CHECK(std::isfinite(l), "training diverged: loss is ", l, " at epoch ", epoch + 1, ", step ", step,
                      " (lower --lr, or use --clip-grad-norm)");
        const std::int64_t b = batch->labels.numel();
        kernels::argmax_rows(logits.data(), b, logits.dim(1), predicted.data());
        for (std::int64_t i = 0; i < b; ++i) sum_correct += predicted[static_cast<std::size_t>(i)] == batch->labels[i];
        sum_loss += l * static_cast<double>(b);
        sum_seen += b;
        model.backward(loss.gradient());
        opt.set_lr(schedule->lr());
        opt.step();
        schedule->step();
        ++step, ++batch_in_epoch;
        bar.update(batch_in_epoch, sum_seen, sum_loss / sum_seen, double(sum_correct) / sum_seen);
        const bool over_budget = c_.time_budget > 0 && elapsed() > c_.time_budget;
        if (stop_requested() || over_budget || (c_.max_steps > 0 && step >= c_.max_steps)) {
          stop = true;
          log_ << "\n"
               << (stop_requested() ? "interrupted" : over_budget ? "time budget reached" : "step limit reached")
               << " at epoch " << epoch + 1 << ", batch " << batch_in_epoch << "/" << steps_per_epoch << "\n";
          break;
        }
      }
      bar.finish();
      const double train_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_epoch).count();
      const data::LoaderStats ls = loader.stats();
      if (stop && batch_in_epoch < steps_per_epoch) {  // a partial epoch: save where we are
        save_state();
        log_ << "saved the training state to " << last_state << " (continue with --resume)\n";
        break;
      }

      // End of an epoch: validation, history, plots, checkpoints.
      const EvalResult val = evaluate(model, val_set, norm, Tta::none, c_.batch_size);
      EpochRecord r;
      r.epoch = epoch + 1;
      r.train_loss = sum_loss / std::max<std::int64_t>(sum_seen, 1);
      r.train_acc = double(sum_correct) / std::max<std::int64_t>(sum_seen, 1);
      r.val_loss = val.loss;
      r.val_acc = val.accuracy();
      r.lr = opt.lr();
      r.epoch_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_epoch).count();
      r.images_per_second = double(sum_seen) / train_seconds;
      r.extras["val_macro_f1"] = val.confusion.macro_f1();
      r.extras["data_wait_seconds"] = ls.wait_seconds;
      history.push_back(r);
      schedule->end_epoch(r.val_acc);
      EpochSummary es{r.epoch, epochs_total, r.train_loss, r.train_acc, r.val_loss, r.val_acc, r.lr, r.epoch_seconds,
                      ls.wait_seconds};
      log_ << format_epoch_summary(es) << "\n";

      ++epoch;
      batch_in_epoch = 0, sum_loss = 0, sum_correct = 0, sum_seen = 0;
      if (r.val_acc > best_val) {
        best_val = r.val_acc, best_epoch = r.epoch;
        io::save_weights(best_weights, model, md);
        write_confusion(val.confusion, "confusion_validation", "Validation, epoch " + std::to_string(r.epoch));
      }
      save_state();
      write_history_csv(path("history.csv"), history);
      write_line_chart_png(path("loss.png"), loss_curves(history, "Loss (" + run_name() + ")"));
      write_line_chart_png(path("accuracy.png"), accuracy_curves(history, "Accuracy (" + run_name() + ")"));

      // Budget: shorten the run (and its schedule) so it ends, with its final evaluation, in time.
      epoch_time_sum += r.epoch_seconds, ++epochs_timed;
      if (c_.time_budget > 0 && epoch < epochs_total) {
        const double per_epoch = epoch_time_sum / epochs_timed;
        const double final_eval = r.epoch_seconds * 0.1 * (1 + tta_views(parse_tta(c_.tta)));  // rough reserve
        const auto fit = static_cast<int>((c_.time_budget - elapsed() - final_eval) / per_epoch);
        if (epoch + fit < epochs_total) {
          const int shortened = std::max(epoch + std::max(fit, 0), epoch);
          log_ << "time budget " << format_duration(c_.time_budget) << ": " << epochs_total << " epochs do not fit at "
               << format_duration(per_epoch) << "/epoch; running " << shortened << "\n";
          if (shortened <= epoch) break;
          epochs_total = shortened;
          auto rescheduled = make_schedule(c_, steps_per_epoch, epochs_total * steps_per_epoch);
          auto state = schedule->state();
          rescheduled->load_state(state);
          schedule = std::move(rescheduled);
        }
      }
      if (stop) break;
    }
    result.epochs_done = epoch;
    result.best_val_acc = best_val;
    result.best_epoch = best_epoch;
    result.stopped_early = stop;
    if (stop && stop_requested()) return result;  // Ctrl-C: state saved, no final evaluation

    // ---- final test evaluation with the best weights ----------------------------------------------
    if (std::filesystem::exists(best_weights)) {
      io::load_weights(best_weights, model);
      log_ << "best validation accuracy " << 100 * best_val << "% at epoch " << best_epoch << "; loaded "
           << best_weights << "\n";
    }
    const Tta tta = parse_tta(c_.tta);
    std::ostringstream report;
    for (Tta t : {Tta::none, tta}) {
      const EvalResult priv = evaluate(model, private_set, norm, t, c_.batch_size);
      const EvalResult all = evaluate(model, test_set, norm, t, c_.batch_size);
      const std::string tag = t == Tta::none ? "" : std::string(" with ") + c_.tta + " TTA";
      report << "PrivateTest" << tag << ":    "
             << accuracy_sentence(priv.confusion.correct(), priv.confusion.total()) << "\n"
             << "Public+Private" << tag << ": "
             << accuracy_sentence(all.confusion.correct(), all.confusion.total()) << "\n";
      if (t == tta) {
        result.private_correct = priv.confusion.correct(), result.private_total = priv.confusion.total();
        result.all_correct = all.confusion.correct(), result.all_total = all.confusion.total();
        write_confusion(priv.confusion, "confusion_private_test", "PrivateTest (" + run_name() + ")");
        report << "\nPrivateTest per class:\n" << priv.confusion.report();
      }
      if (tta == Tta::none) break;
    }
    if (c_.validation == "public")
      report << "(PublicTest was the validation split used to pick the best epoch; PrivateTest was never used "
                "for any choice.)\n";
    log_ << report.str();
    io::write_file_atomic(path("test_results.txt"), report.str());
    log_ << "outputs in " << c_.out << ": best.safetensors, last.safetensors, history.csv, loss.png, accuracy.png, "
         << "confusion_*.png/.txt, test_results.txt\n";
    return result;
  }

 private:
  std::string path(const std::string& name) const { return (std::filesystem::path(c_.out) / name).string(); }
  std::string run_name() const {
    const ModelInfo& info = find_model(c_.model);
    return c_.model + " " + size_args_text(info, resolve_size_args(info, c_.size));
  }
  // Whether the training state holds exactly the size arguments `size` ("size.w" = "32").
  static bool same_size_args(const io::TrainingState& s, const SizeArgs& size) {
    const io::Metadata saved = s.get_map("size.");
    if (saved.size() != size.size()) return false;
    for (const auto& [key, v] : size)
      if (!saved.count(key) || s.get_double("size." + key) != v) return false;
    return true;
  }
  static std::string saved_size_args(const io::TrainingState& s) {
    std::string out;
    for (const auto& [key, v] : s.get_map("size.")) out += (out.empty() ? "" : " ") + key + " " + v;
    return out.empty() ? "no size arguments" : out;
  }
  void write_confusion(const ConfusionMatrix& cm, const std::string& stem, const std::string& title) const {
    write_confusion_png(path(stem + ".png"), cm, title);
    io::write_file_atomic(path(stem + ".txt"), cm.report() + "\nconfusion matrix (rows: true class, columns: predicted)\n" +
                                                   cm.table());
  }

  TrainConfig c_;
  std::ostream& log_;
};

}  // namespace moodnet::train
