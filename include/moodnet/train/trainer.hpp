#pragma once
// The training loop shared by `train` and the train_<model> FER-2013 presets: any dataset in
// (train/train_data.hpp), a trained classifier, its curves, confusion matrices and test accuracy
// out; what it is asked to do is a TrainConfig (train/train_config.hpp). Trainer::run reads top to
// bottom, one member function per phase:
//
//   load_data        train / validation / test splits (FER-2013: PublicTest, PrivateTest and
//                    Public+Private), per-channel normalisation
//   build            model (registry), loss, optimizer over the model's arena, batch loader
//   start_or_resume  a fresh TrainProgress, or the saved one (--resume)
//   for epoch:  train_epoch     for batch: set_step, zero_grad, forward, cross-entropy, backward,
//                               lr, step
//               end_epoch       validation; history.csv + PNG curves; last/best weights
//               fit_time_budget shortens the run when the time budget would be exceeded
//   final_report     best weights -> test accuracy (FER-2013: PrivateTest and Public+Private),
//                    confusion matrices with the dataset's class names
//
// Everything a resumed run needs is in <out>/last.safetensors (weights, BN buffers) and
// <out>/last.state.safetensors (train/train_state.hpp: position in the run, running sums, optimizer
// moments, schedule, and the settings a resume must share), written atomically after every epoch and
// on a stop (Ctrl-C, time budget), and bound by one checkpoint id (save_state: a stop between the two
// writes can never resume to other weights). <out>/train.lock keeps a second trainer out of the
// folder while the run lasts (io/run_lock.hpp). A non-finite loss or weight, or a batch loss above
// kDivergedLoss x max(1, ln classes), stops the run at that step with nothing written. The batches
// are a pure function of (seed, epoch) and dropout of (seed, step), so a resumed run reaches the same
// weights as an uninterrupted one.
//
// --ema D keeps an exponential moving average of the weights and batchnorm buffers
// (optim/weight_average.hpp), updated after every step and saved in the training state: validation
// (the best epoch), best.safetensors, the snapshots and the test report use the average, while the
// training, last.safetensors and the plateau schedule go on with the raw weights (whose validation
// history.csv keeps as raw_val_acc/raw_val_loss). --save-every N writes the evaluated weights of every
// N-th epoch to <out>/snapshots/epoch_NNN.safetensors, for ensembles of one run.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "moodnet/core/duration.hpp"
#include "moodnet/core/hash.hpp"
#include "moodnet/core/parallel.hpp"
#include "moodnet/core/version.hpp"
#include "moodnet/cli/flags.hpp"
#include "moodnet/data/augment.hpp"
#include "moodnet/data/fer2013.hpp"
#include "moodnet/data/loader.hpp"
#include "moodnet/data/normalize.hpp"
#include "moodnet/graph/conv_algorithm.hpp"
#include "moodnet/io/atomic_file.hpp"
#include "moodnet/io/model_checkpoint.hpp"
#include "moodnet/io/run_lock.hpp"
#include "moodnet/io/training_state.hpp"
#include "moodnet/kernels/matmul_precision.hpp"
#include "moodnet/layers/batchnorm2d.hpp"
#include "moodnet/loss/cross_entropy.hpp"
#include "moodnet/models/registry.hpp"
#include "moodnet/optim/linear_tail.hpp"
#include "moodnet/optim/lr_schedule.hpp"
#include "moodnet/optim/optimizer.hpp"
#include "moodnet/optim/weight_average.hpp"
#include "moodnet/train/evaluate.hpp"
#include "moodnet/train/history.hpp"
#include "moodnet/train/metrics.hpp"
#include "moodnet/train/plot.hpp"
#include "moodnet/train/progress.hpp"
#include "moodnet/train/signal.hpp"
#include "moodnet/train/train_config.hpp"
#include "moodnet/train/train_data.hpp"
#include "moodnet/train/training_group.hpp"
#include "moodnet/train/train_state.hpp"
#include "moodnet/train/tta_title.hpp"
#include "moodnet/train/worst_examples.hpp"

namespace moodnet::train {

class Trainer {
 public:
  // group: data-parallel training (training_group.hpp), null for one process. Every rank runs the
  // same Trainer; rank 0 alone logs, holds the folder's lock and writes files.
  explicit Trainer(TrainConfig config, std::ostream& out = std::cout, TrainingGroup* group = nullptr)
      : c_(std::move(config)), group_(group), log_(root() ? out : null_log_) {
    validate(c_);
  }
  Trainer(const Trainer&) = delete;  // the loader refers to the trainer's datasets
  Trainer& operator=(const Trainer&) = delete;

  // The whole run, phase by phase (each phase is a member function below, in this order).
  TrainResult run() {
    start_ = Clock::now();
    set_num_threads(c_.threads);
    std::filesystem::create_directories(c_.out);
    std::optional<io::RunLock> lock;  // held by rank 0 until the run returns or throws
    if (root()) {
      lock.emplace(c_.out);
      check_folder_is_free();
      io::remove_stale_temporaries(c_.out);  // of a run killed mid-write: no one else writes here now
      io::remove_stale_temporaries(path(kSnapshots));
    }
    StopSignalGuard stop_guard;  // from here: Ctrl-C, SIGTERM, SIGHUP while the data loads stop cleanly too
    load_data();
    build();
    start_or_resume();

    bool stop = stop_requested();
    if (group_) {  // all ranks start, or none
      double f = stop ? 1 : 0;
      group_->sum(&f, 1);
      stop = f > 0;
    }
    if (stop) log_ << "interrupted before the first batch: nothing new to save (" << c_.out << " is unchanged)\n";
    if (!stop && root()) begin_writing();
    while (progress_.epoch < progress_.epochs_total && !stop) {
      const EpochRun e = train_epoch();
      stop = e.stopped;
      if (stop && progress_.batch_in_epoch < steps_per_epoch_) {  // a partial epoch: save where we are
        if (root()) save_state();
        log_ << "saved the training state to " << path(kLastState) << " (continue with --resume)\n";
        break;
      }
      const double epoch_seconds = end_epoch(e);
      if (!fit_time_budget(whole_epoch_seconds(epoch_seconds, e.train_seconds, e.batches, steps_per_epoch_))) break;
    }
    TrainResult result;
    result.epochs_done = progress_.epoch;
    result.best_val_acc = progress_.best_val_acc;
    result.best_epoch = progress_.best_epoch;
    result.stopped_early = stop;
    if (stop && stop_requested()) return result;  // Ctrl-C: state saved, no final evaluation
    if (root()) {
      try {
        final_report(result);
      } catch (const EvaluationInterrupted&) {  // Ctrl-C inside one test split (final_report's guard)
        log_ << "interrupted: final evaluation skipped (the weights are in " << c_.out << ")\n";
        result.stopped_early = true;
      }
    }
    return result;
  }

 private:
  using Clock = std::chrono::steady_clock;
  static constexpr const char* kLastWeights = "last.safetensors";
  static constexpr const char* kLastState = "last.state.safetensors";
  static constexpr const char* kBestWeights = "best.safetensors";
  static constexpr const char* kPrevWeights = "last.prev.safetensors";  // see save_state
  static constexpr const char* kCheckpointKey = "checkpoint";  // "<run id>/<step>" in both files
  static constexpr const char* kConfigFile = "config.json";    // the run's flags, for people and tools
  static constexpr const char* kSnapshots = "snapshots";       // --save-every: epoch_NNN.safetensors
  static constexpr const char* kConvAlgorithmsKey = "conv.algorithms";  // --winograd measured: the choices
  // A batch loss above kDivergedLoss x max(1, ln K) (ln K: the loss of a uniform guess over K
  // classes) is divergence: a training run's loss starts near ln K and falls; 100 times that is
  // logits off by hundreds (Adam at lr 1e4 reaches 5e14 in its second step).
  static constexpr double kDivergedLoss = 100;
  static constexpr std::int64_t kWorstExamples = 16;  // images in each worst_<split>.png

  // What one pass over the training batches reports to end_epoch.
  struct EpochRun {
    Clock::time_point started;
    double train_seconds = 0;
    std::int64_t batches = 0, images = 0;  // trained by this process (a resumed epoch: only the rest)
    data::LoaderStats loader;
    bool stopped = false;  // Ctrl-C, time budget or max_steps
  };

  // ---- phase 1: data --------------------------------------------------------------------------
  void load_data() {
    data_ = load_train_data(c_.data, c_.seed, log_, "train_" + c_.model);
    const data::ImageShape shape = data_.train.shape();
    if (c_.crop > std::min(shape.height, shape.width))
      fail("--crop ", c_.crop, " is larger than the images (", shape.str(), ")");
  }

  // ---- phase 2: model, loss, optimizer, loader -------------------------------------------------
  void build() {
    md_.model = c_.model;
    md_.size = resolve_size_args(find_model(c_.model), c_.size);
    const data::ImageShape shape = data_.train.shape();
    md_.input = c_.crop ? Shape{shape.channels, c_.crop, c_.crop} : Shape{shape.channels, shape.height, shape.width};
    if (c_.crop) md_.image_height = shape.height, md_.image_width = shape.width;
    md_.resize = data_.resize;
    md_.class_names = data_.train.class_names;
    md_.set_normalization(data_.norm);
    md_.extra["moodnet_version"] = MOODNET_VERSION_STRING;  // in every weights file the run writes
    if (!c_.program.empty()) md_.extra["program"] = c_.program;
    if (!c_.flags.empty()) md_.extra["flags"] = flags_json(false);
    model_ = std::make_unique<Model<float>>(io::make_model<float>(md_, c_.seed));
    if (c_.winograd == "measured") {
      // Each process would measure for itself and might choose apart from the others; one table
      // for all ranks is not built yet.
      if (group_) fail("--winograd measured: not with several ranks (mpirun) yet; use --winograd off, f2 or f4");
      conv_table_ = std::make_shared<graph::ConvAlgorithmTable>(graph::ConvAlgorithmTable::Policy::measured);
    } else if (c_.winograd == "f2" || c_.winograd == "f4") {  // one tile everywhere: every rank computes alike
      const auto a = c_.winograd == "f2" ? graph::ConvAlgorithm::winograd_f2 : graph::ConvAlgorithm::winograd_f4;
      conv_table_ = std::make_shared<graph::ConvAlgorithmTable>(graph::ConvAlgorithmTable::everywhere({a, a, a}));
    }
    if (conv_table_) model_->set_conv_algorithms(conv_table_);
    if (c_.precision != "fp32") {  // for the trainer's lifetime: training, validation and the test numbers
      try {
        precision_.emplace(kernels::parse_matmul_precision(c_.precision));
      } catch (const Error& e) {
        fail("--", e.what());
      }
      log_ << "precision: " << c_.precision << " matrix products (AMX), float weights, gradients and sums\n";
    }
    log_ << model_->summary(c_.batch_size);

    std::vector<float> class_w;
    if (c_.class_weights) {
      const auto counts = data_.train.class_counts();
      for (auto n : counts)
        class_w.push_back(static_cast<float>(double(data_.train.size()) / (double(counts.size()) * std::max<double>(1, n))));
    }
    loss_ = std::make_unique<CrossEntropyLoss<float>>(c_.label_smoothing, class_w);
    OptimizerConfig oc;
    oc.name = c_.optimizer;
    oc.lr = c_.lr, oc.momentum = c_.momentum, oc.nesterov = c_.nesterov && c_.optimizer == "sgd";
    oc.weight_decay = c_.weight_decay, oc.clip_grad_norm = c_.clip_grad_norm;
    oc.norm_bias_lr_scale = c_.norm_bias_lr_scale;
    opt_ = std::make_unique<Optimizer<float>>(model_->arena(), oc);

    data::LoaderOptions lo;
    lo.batch_size = c_.batch_size;
    lo.drop_last = data_.train.size() > c_.batch_size;  // keep BN batches full-sized
    lo.seed = c_.seed;
    lo.augment = data::AugmentConfig::fer2013(c_.augment, c_.erase);  // pixel magnitudes scale with the image side
    if (!c_.hflip || c_.flip == "none") lo.augment.hflip_p = 0;
    lo.flip = c_.flip == "alternate" ? data::FlipMode::alternate : data::FlipMode::random;
    lo.norm = data_.norm;
    lo.crop = c_.crop;
    if (group_) lo.shard_index = group_->rank(), lo.shard_count = group_->size();
    loader_ = std::make_unique<data::BatchLoader>(data_.train, lo);
    if (group_) {  // the same flags and data on every rank, then rank 0's initial weights everywhere
      group_->check_same("the flags or the data", settings_id());
      // Not a setting of the run (the same sums either way), but ranks must agree on it: their
      // collectives would not match otherwise.
      group_->check_same("--overlap-allreduce", c_.overlap_allreduce ? "on" : "off");
      group_->broadcast_model(*model_);
      const int synced = c_.sync_bn ? set_batchnorm_sync(model_->network(), &group_->batchnorm_sync()) : 0;
      log_ << "data parallel: " << group_->size() << " ranks, each " << c_.batch_size / group_->size()
           << "-" << (c_.batch_size + group_->size() - 1) / group_->size() << " of every batch of " << c_.batch_size
           << (c_.sync_bn ? ", " + std::to_string(synced) + " batchnorm layers synchronised" : std::string()) << "\n";
      // Validation is sharded too: this rank's contiguous part of the split (validation()).
      const Shard vs = shard_of(data_.val.size(), group_->rank(), group_->size());
      std::vector<std::int64_t> items;
      for (std::int64_t i = vs.begin; i < vs.end; ++i) items.push_back(i);
      val_shard_ = data_.val.subset(items);
    }
    // After the broadcast: every rank averages from rank 0's initial weights.
    if (c_.ema > 0) ema_ = std::make_unique<WeightAverage<float>>(*model_, c_.ema, c_.ema_warmup);
    steps_per_epoch_ = loader_->batches_per_epoch();
    predicted_.resize(static_cast<std::size_t>(c_.batch_size));
  }

  // ---- phase 3: a fresh run, or the saved one continued (--resume) -------------------------------
  void start_or_resume() {
    progress_ = TrainProgress{};
    progress_.epochs_total = c_.epochs;
    schedule_ = schedule_for(progress_);
    run_id_ = settings_id();
    if (!c_.resume) return;
    const std::string last_state = path(kLastState);
    MOODNET_CHECK(std::filesystem::exists(last_state), "--resume: no training state ", last_state,
                  " (start without --resume)");
    const io::TrainingState s = io::load_training_state(last_state);
    RunSettings recorded = recorded_run_settings();
    if (c_.replan_epochs) std::erase_if(recorded, [](const auto& kv) { return kv.first == "epochs"; });
    check_run_settings(s, run_settings(), recorded);
    const std::string weights = weights_of(s);
    io::load_weights(weights, *model_);
    if (group_) group_->check_same("checkpoint", s.has(kCheckpointKey) ? s.get_string(kCheckpointKey) : weights);
    if (root() && weights != path(kLastWeights)) std::filesystem::rename(weights, path(kLastWeights));  // the pair again
    std::error_code no_prev;  // a stop after the state's write, before save_state removed it: it pairs nothing now
    if (root() && weights == path(kLastWeights)) std::filesystem::remove(path(kPrevWeights), no_prev);
    if (s.has("run_id")) run_id_ = s.get_string("run_id");
    schedule_ = load_train_state<float>(s, progress_, *opt_, [this](const TrainProgress& p) { return schedule_for(p); });
    if (ema_ && !s.has("ema.updates"))
      fail("--resume: ", last_state, " holds no weight average (its run was started without --ema): resume without "
           "--ema, or start a new run");
    if (ema_) load_weight_average(s, *ema_);
    // --winograd f2/f4 choose alike again by themselves; measured ones are pinned.
    if (conv_table_ && c_.winograd == "measured" && s.has(kConvAlgorithmsKey)) {  // the same arithmetic again
      *conv_table_ = graph::ConvAlgorithmTable::parse(s.get_string(kConvAlgorithmsKey), last_state);
      model_->set_conv_algorithms(conv_table_);  // drops the plans compiled so far (the summary's own measurements)
      log_ << "winograd: the run's " << conv_table_->entries().size() << " recorded choices, from " << last_state
           << "\n";
    }
    progress_.validate(last_state, steps_per_epoch_);
    if (c_.replan_epochs && c_.epochs != progress_.epochs_total) replan(c_.epochs);
    if (std::filesystem::exists(path("history.csv"))) history_ = read_history_csv(path("history.csv"));
    history_.resize(std::min<std::size_t>(history_.size(), static_cast<std::size_t>(progress_.epoch)));
    log_ << "resumed from " << last_state << " at epoch " << progress_.epoch + 1 << ", batch "
         << progress_.batch_in_epoch << ", step " << progress_.step << "\n";
  }

  // ---- phase 4: one epoch of training batches (or what is left of it) ----------------------------
  EpochRun train_epoch() {
    TrainProgress& p = progress_;
    EpochRun e;
    e.started = Clock::now();
    model_->train();
    loader_->start_epoch(p.epoch, p.batch_in_epoch);
    char prefix[32];
    std::snprintf(prefix, sizeof prefix, "epoch %d/%d", p.epoch + 1, p.epochs_total);
    ProgressBar bar(log_, steps_per_epoch_, &log_ == &std::cout && is_terminal(stdout), prefix);
    bar.resume_from(p.batch_in_epoch, p.sum_seen);  // img/s and ETA of this process's batches
    const std::int64_t first_seen = p.sum_seen;
    const double mpi_seconds[2] = {group_ ? group_->gradient_seconds() : 0, group_ ? group_->sum_seconds() : 0};
    const std::int64_t first_step = p.step;
    // Data parallel: a rank's stop flags after a step (time budget, interrupted) travel with the
    // next step's sums, one allreduce a step; every rank then stops before that next step's
    // backward, so all stop after the same step (a stop costs one forward).
    double pending_stop[2] = {0, 0};
    const auto stop_here = [&](bool interrupted, bool over_budget) {
      e.stopped = true;
      log_ << "\n"
           << (interrupted ? "interrupted" : over_budget ? "time budget reached" : "step limit reached") << " at epoch "
           << p.epoch + 1 << ", batch " << p.batch_in_epoch << "/" << steps_per_epoch_ << "\n";
    };
    while (auto batch = loader_->next()) {
      model_->set_step(static_cast<std::uint64_t>(p.step), batch->first_item);  // dropout at global positions
      model_->zero_grad();
      const TensorView<const float> logits = model_->forward(batch->images);
      const std::int64_t b = batch->labels.numel();
      kernels::argmax_rows(logits.data(), b, logits.dim(1), predicted_.data());
      std::int64_t correct = 0;
      for (std::int64_t i = 0; i < b; ++i) correct += predicted_[static_cast<std::size_t>(i)] == batch->labels[i];
      // The batch's loss sum, correct answers and size: over every rank's shard (data parallel).
      double sums[5] = {loss_->forward_backward(logits, batch->labels.data()) * static_cast<double>(b),
                        static_cast<double>(correct), static_cast<double>(b), pending_stop[0], pending_stop[1]};
      if (group_) {
        group_->sum(sums, 5);
        if (sums[3] > 0 || sums[4] > 0) {  // a rank was told to stop after the previous step
          stop_here(sums[4] > 0, sums[3] > 0);
          break;
        }
      }
      const double l = sums[0] / sums[2];
      const double loss_limit = kDivergedLoss * std::max(1.0, std::log(static_cast<double>(data_.train.num_classes())));
      MOODNET_CHECK(std::isfinite(l) && l <= loss_limit, "training diverged: loss is ", l, " at epoch ", p.epoch + 1,
                    ", step ", p.step, std::isfinite(l) ? " (above the limit " + io::format_double(loss_limit) + ")" : "",
                    " (lower --lr, or use --clip-grad-norm); nothing was written for this step");
      p.sum_correct += static_cast<std::int64_t>(sums[1]);
      p.sum_loss += sums[0];
      p.sum_seen += static_cast<std::int64_t>(sums[2]);
      if (group_ && c_.overlap_allreduce) {
        model_->backward(loss_->gradient(), group_->start_gradient_average(model_->parameter_grads(), b,
                                                                           loader_->batch_items(batch->index)));
        group_->finish_gradient_average();
      } else {
        model_->backward(loss_->gradient());
        if (group_) group_->average_gradients(model_->parameter_grads(), b, loader_->batch_items(batch->index));
      }
      opt_->set_lr(schedule_->lr());
      opt_->step();
      check_weights_finite();
      if (ema_) ema_->update();
      schedule_->step();
      ++p.step, ++p.batch_in_epoch;
      bar.update(p.batch_in_epoch, p.sum_seen, p.sum_loss / p.sum_seen, double(p.sum_correct) / p.sum_seen);
      const bool over_budget = c_.time_budget > 0 && elapsed() > c_.time_budget;
      const bool interrupted = stop_requested();
      if (group_) pending_stop[0] = over_budget ? 1 : 0, pending_stop[1] = interrupted ? 1 : 0;
      if ((!group_ && (interrupted || over_budget)) || (c_.max_steps > 0 && p.step >= c_.max_steps)) {
        stop_here(interrupted && !group_, over_budget && !group_);
        break;
      }
    }
    if (group_ && !e.stopped) {  // the flags of the epoch's last step, which no next step carried
      group_->sum(pending_stop, 2);
      if (pending_stop[0] > 0 || pending_stop[1] > 0) stop_here(pending_stop[1] > 0, pending_stop[0] > 0);
    }
    bar.finish();
    if (group_ && p.step > first_step) {
      const double steps = static_cast<double>(p.step - first_step);
      char line[224];
      std::snprintf(line, sizeof line, "data parallel: %.2f ms/step in the gradient allreduce%s, %.2f ms/step in the "
                    "small sums (loss, flags, batchnorm)\n", 1e3 * (group_->gradient_seconds() - mpi_seconds[0]) / steps,
                    c_.overlap_allreduce ? " (overlapped with the backward pass: the part not hidden)" : "",
                    1e3 * (group_->sum_seconds() - mpi_seconds[1]) / steps);
      log_ << line;
    }
    e.train_seconds = seconds_since(e.started);
    e.batches = p.step - first_step, e.images = p.sum_seen - first_seen;
    e.loader = loader_->stats();
    return e;
  }

  // --winograd measured: one line per shape measured since the last call (plans compile lazily:
  // the training plans in the first batches, the evaluation plans in the first validation).
  void log_conv_measurements() {
    if (!conv_table_) return;
    const auto& m = conv_table_->measurements();
    for (; conv_measurements_logged_ < m.size(); ++conv_measurements_logged_)
      log_ << graph::format_conv_measurement(m[conv_measurements_logged_]) << "\n";
  }

  // ---- phase 5: end of an epoch: validation, history, checkpoints, plots ---------------------------
  // Returns the epoch's wall time (training and validation).
  double end_epoch(const EpochRun& e) {
    TrainProgress& p = progress_;
    // --ema: the raw weights' validation steers the plateau schedule (the training goes on with
    // them); the average's picks the best epoch and is written as best and snapshot weights.
    std::optional<EvalResult> raw;
    if (ema_) raw = validation();
    WeightAverageScope<float> averaged(ema_.get());  // until the checkpoint below (no-op without --ema)
    const EvalResult val = validation();
    EpochRecord r;
    r.epoch = p.epoch + 1;
    r.train_loss = p.sum_loss / std::max<std::int64_t>(p.sum_seen, 1);
    r.train_acc = double(p.sum_correct) / std::max<std::int64_t>(p.sum_seen, 1);
    r.val_loss = val.loss;
    r.val_acc = val.accuracy();
    r.lr = opt_->lr();
    r.epoch_seconds = seconds_since(e.started);
    r.images_per_second = e.images > 0 ? double(e.images) / e.train_seconds : NAN;  // this process's images
    r.extras["val_macro_f1"] = val.confusion.macro_f1();
    r.extras["data_wait_seconds"] = e.loader.wait_seconds;
    if (raw) r.extras["raw_val_acc"] = raw->accuracy(), r.extras["raw_val_loss"] = raw->loss;
    history_.push_back(r);
    schedule_->end_epoch(raw ? raw->accuracy() : r.val_acc);
    EpochSummary es{r.epoch, p.epochs_total, r.train_loss, r.train_acc, r.val_loss, r.val_acc, r.lr, r.epoch_seconds,
                    e.loader.wait_seconds};
    log_ << format_epoch_summary(es) << "\n";
    log_conv_measurements();
    if (raw) {  // the line above is the average's
      char line[96];
      std::snprintf(line, sizeof line, "  (val above: the weight average; raw weights: val loss %.4f acc %.2f%%)\n",
                    raw->loss, 100 * raw->accuracy());
      log_ << line;
    }

    ++p.epoch;
    p.batch_in_epoch = 0, p.sum_loss = 0, p.sum_correct = 0, p.sum_seen = 0;
    const bool best = r.val_acc > p.best_val_acc;
    if (best) p.best_val_acc = r.val_acc, p.best_epoch = r.epoch;
    if (!root()) return r.epoch_seconds;  // rank 0 writes for the group
    if (best) {
      io::ModelMetadata md = md_;
      md.extra["epoch"] = std::to_string(r.epoch);
      md.extra["val_accuracy"] = io::format_double(r.val_acc);
      io::save_weights(path(kBestWeights), *model_, md);
      log_ << "new best validation accuracy " << 100 * r.val_acc << "% at epoch " << r.epoch << ": saved "
           << path(kBestWeights) << "\n";
      write_split_plots(val, data_.val, "validation", tta_title("Validation, epoch " + std::to_string(r.epoch), Tta::none));
    }
    if (c_.save_every > 0 && r.epoch % c_.save_every == 0) save_snapshot(r.epoch, r.val_acc);
    averaged.restore();  // the raw weights back: the checkpoint and the training continue with them
    save_state();
    write_history_csv(path("history.csv"), history_);
    write_line_chart_png(path("loss.png"), loss_curves(history_, "Loss (" + run_name() + ")"));
    write_line_chart_png(path("accuracy.png"), accuracy_curves(history_, "Accuracy (" + run_name() + ")"));
    return r.epoch_seconds;
  }

  // The validation split's loss and confusion matrix. Data parallel: rank 0's batchnorm buffers go
  // to every rank first (as DDP's broadcast_buffers; without --sync-bn each rank's running
  // statistics follow its own shards), then each rank evaluates its part of the split and the
  // loss sums and counts are added over the ranks: the numbers rank 0 alone would get on the whole
  // split (up to the order of the loss sum), in 1/R of the time.
  EvalResult validation() {
    if (!group_) return evaluate(*model_, data_.val, data_.norm, Tta::none, c_.batch_size);
    group_->broadcast_model(*model_);
    const int k = data_.val.num_classes();
    std::vector<double> sums(static_cast<std::size_t>(k * k + 1), 0.0);  // loss sum, then counts [true][predicted]
    if (val_shard_.size() > 0) {
      const EvalResult mine = evaluate(*model_, val_shard_, data_.norm, Tta::none, c_.batch_size);
      sums[0] = mine.loss * static_cast<double>(val_shard_.size());
      for (int t = 0; t < k; ++t)
        for (int q = 0; q < k; ++q) sums[static_cast<std::size_t>(1 + t * k + q)] = static_cast<double>(mine.confusion.count(t, q));
    }
    group_->sum(sums.data(), k * k + 1);
    EvalResult r{sums[0] / static_cast<double>(data_.val.size()), ConfusionMatrix(data_.val.class_names), {}};
    for (int t = 0; t < k; ++t)
      for (int q = 0; q < k; ++q)
        for (auto n = std::llround(sums[static_cast<std::size_t>(1 + t * k + q)]); n > 0; --n) r.confusion.add(t, q);
    return r;
  }

  // ---- phase 6: the time budget shortens the run (and its schedule) so that it ends, with its final
  // evaluation, in time. Returns false when not even one more epoch fits.
  bool fit_time_budget(double last_epoch_seconds) {
    TrainProgress& p = progress_;
    epoch_times_.push_back(last_epoch_seconds);
    if (c_.time_budget <= 0 || p.epoch >= p.epochs_total) return true;
    const double per_epoch = planned_epoch_seconds(epoch_times_);
    const double final_eval = last_epoch_seconds * 0.1 * (1 + tta_views(parse_tta(c_.tta)));  // rough reserve
    auto fit = static_cast<int>((c_.time_budget - elapsed() - final_eval) / per_epoch);
    if (group_) {  // rank 0's clock decides for the group
      double f = root() ? fit : 0;
      group_->sum(&f, 1);
      fit = static_cast<int>(f);
    }
    if (p.epoch + fit >= p.epochs_total) return true;
    const int shortened = std::max(p.epoch + std::max(fit, 0), p.epoch);
    log_ << "time budget " << format_duration(c_.time_budget) << ": " << p.epochs_total << " epochs do not fit at "
         << format_duration(per_epoch) << "/epoch; running " << shortened << "\n";
    if (shortened <= p.epoch) return false;
    p.epochs_total = shortened;
    auto rescheduled = schedule_for(p);
    rescheduled->load_state(schedule_->state());
    schedule_ = std::move(rescheduled);
    return true;
  }

  // ---- phase 7: the best weights on the test split(s), with and without TTA ---------------------
  // FER-2013: PrivateTest and Public+Private; another dataset: its test split, whose accuracy is
  // also the log's final line.
  void final_report(TrainResult& result) {
    const InterruptibleEvaluation interruptible;  // a stop inside a split ends it within a batch
    const std::string best_weights = path(kBestWeights);
    if (std::filesystem::exists(best_weights)) {
      io::load_weights(best_weights, *model_);
      log_ << "best validation accuracy " << 100 * progress_.best_val_acc << "% at epoch " << progress_.best_epoch
           << "; loaded " << best_weights << "\n";
    } else if (ema_) {
      ema_->swap();  // no epoch ended (a step limit inside the first): test the average; the run ends here
    }
    const Tta tta = parse_tta(c_.tta);
    const bool fer = data_.is_fer2013();
    std::size_t width = 0;  // labels padded to one column: "PrivateTest:    " / "Public+Private: "
    for (const auto& split : data_.tests) width = std::max(width, split.name.size() + 2);
    std::ostringstream report;
    std::string headline, per_class;
    for (Tta t : {Tta::none, tta}) {
      const std::string tag = t == Tta::none ? "" : std::string(" with ") + c_.tta + " TTA";
      for (std::size_t i = 0; i < data_.tests.size(); ++i) {
        if (stop_requested()) {  // Ctrl-C during the final evaluation: stop between two splits
          log_ << "interrupted: final evaluation skipped (the weights are in " << c_.out << ")\n";
          result.stopped_early = true;
          return;
        }
        const TestSplit& split = data_.tests[i];
        const EvalResult r = evaluate(*model_, split.set, data_.norm, t, c_.batch_size);
        const std::string label = split.name + tag + ":";
        const std::string line = label + std::string(width + tag.size() - label.size(), ' ') +
                                 accuracy_sentence(r.confusion.correct(), r.confusion.total());
        report << line << "\n";
        if (t != tta) continue;
        (i == 0 ? result.private_correct : result.all_correct) = r.confusion.correct();
        (i == 0 ? result.private_total : result.all_total) = r.confusion.total();
        if (i > 0) continue;
        headline = line;
        write_split_plots(r, split.set, fer ? "private_test" : "test", tta_title(split.name + " (" + run_name() + ")", t));
        per_class = r.confusion.report();
      }
      if (t == tta) report << "\n" << data_.tests[0].name << " per class:\n" << per_class;
      if (tta == Tta::none) break;
    }
    if (data_.validation_is_public)
      report << "(PublicTest was the validation split used to pick the best epoch; PrivateTest was never used "
                "for any choice.)\n";
    else if (!fer)
      report << "(The validation split (" << data_.val_from << ") picked the best epoch; the test split ("
             << data_.test_from << ") was never used for any choice.)\n";
    log_ << report.str();
    io::write_file_atomic(path("test_results.txt"), report.str());
    log_ << "outputs in " << c_.out << ": best.safetensors, last.safetensors, history.csv, loss.png, accuracy.png, "
         << "confusion_*.png/.txt, worst_*.png/.txt, test_results.txt\n";
    if (!fer) log_ << headline << "\n";
  }

  // ---- the saved state --------------------------------------------------------------------------
  // The settings a resume must share with the run that saved (checked by check_run_settings).
  RunSettings run_settings() const {
    RunSettings s = {{"model", c_.model}};
    for (const auto& [key, v] : md_.size) s.emplace_back("size." + key, io::format_double(v));
    s.emplace_back("seed", std::to_string(c_.seed));
    s.emplace_back("optimizer", c_.optimizer);
    s.emplace_back("schedule", c_.schedule);
    s.emplace_back("batch_size", std::to_string(c_.batch_size));
    if (!data_.is_fer2013() || md_.input != default_input_shape()) {  // FER-2013's state files predate these
      const io::Metadata m = md_.to_map();
      for (const char* key : {"input_shape", "class_names", "image_size"})
        s.emplace_back(key, m.count(key) ? m.at(key) : "none");
    }
    return s;
  }
  // Settings state files record since issue 19: compared on --resume when the file has them (files
  // written before still resume). "data" fingerprints the training and validation images and labels
  // (data_fingerprint), so another dataset at the same path, or the same one at another path, is
  // judged by its content.
  RunSettings recorded_run_settings() const {
    const auto num = [](double v) { return io::format_double(v); };
    return {{"epochs", std::to_string(c_.epochs)},
            {"lr", num(c_.lr)},
            {"momentum", num(c_.momentum)},
            {"nesterov", c_.nesterov ? "1" : "0"},
            {"weight_decay", num(c_.weight_decay)},
            {"warmup_epochs", num(c_.warmup_epochs)},
            {"label_smoothing", num(c_.label_smoothing)},
            {"class_weights", c_.class_weights ? "1" : "0"},
            {"augment", num(c_.augment)},
            {"clip_grad_norm", num(c_.clip_grad_norm)},
            {"crop", std::to_string(c_.crop)},
            {"hflip", c_.hflip ? "1" : "0"},
            {"flip", c_.flip},
            {"erase", num(c_.erase)},
            {"tail_fraction", num(c_.tail_fraction)},
            {"norm_bias_lr_scale", num(c_.norm_bias_lr_scale)},
            {"ema", c_.ema > 0 ? num(c_.ema) + (c_.ema_warmup ? " warmup" : "") : "0"},
            {"sync_bn", c_.sync_bn ? "1" : "0"},
            {"winograd", c_.winograd},
            {"precision", c_.precision},
            {"data", data_fingerprint()}};
  }
  // "<hex>/<train images>/<validation images>": a 64-bit hash of both splits' pixels and labels.
  std::string data_fingerprint() const {
    std::uint64_t h = kFnv1aOffsetBasis;  // 8 bytes per multiply (core/hash.hpp): FER-2013's 66 MB in milliseconds
    for (const data::Dataset* d : {&data_.train, &data_.val}) {
      h = fnv1a_words(d->images.data(), static_cast<std::size_t>(d->images.numel()), h);
      h = fnv1a_words(d->labels.data(), static_cast<std::size_t>(d->labels.numel()) * sizeof(std::int32_t), h);
    }
    return hex16(h) + "/" + std::to_string(data_.train.size()) + "/" + std::to_string(data_.val.size());
  }

  // <out>/last.safetensors (weights, BN buffers) and <out>/last.state.safetensors (train_state.hpp),
  // bound by one checkpoint id "<run id>/<step>" written into both. Each write is atomic, the pair
  // is not: so the weights the current state belongs to stay as last.prev.safetensors (a hard link)
  // until the new state is written. A stop at any moment leaves a state and, in last or last.prev,
  // the weights with its id; --resume takes that one (weights_of) and never mixes two checkpoints.
  void save_state() {
    const std::string last = path(kLastWeights), prev = path(kPrevWeights);
    std::error_code ec;
    std::filesystem::remove(prev, ec);
    if (std::filesystem::exists(last)) {
      std::filesystem::create_hard_link(last, prev, ec);
      if (ec) std::filesystem::copy_file(last, prev, std::filesystem::copy_options::overwrite_existing, ec);
    }
    const std::string id = run_id_ + "/" + std::to_string(progress_.step);
    io::ModelMetadata md = md_;
    md.extra[kCheckpointKey] = id;
    md.extra["epoch"] = std::to_string(progress_.epoch);  // epochs finished
    io::save_weights(last, *model_, md);
    io::TrainingState s;
    save_run_settings(s, run_settings());
    save_run_settings(s, recorded_run_settings());
    if (!c_.program.empty()) s.set_string("program", c_.program);
    for (const cli::FlagValue& f : c_.flags) s.set_string("flag." + f.name, f.text);
    s.set_string("run_id", run_id_);
    s.set_string(kCheckpointKey, id);
    save_train_state<float>(s, progress_, *opt_, *schedule_);
    if (ema_) save_weight_average(s, *ema_);
    if (conv_table_) s.set_string(kConvAlgorithmsKey, conv_table_->str());
    io::save_training_state(path(kLastState), s);
    std::filesystem::remove(prev, ec);
  }
  // <out>/snapshots/epoch_NNN.safetensors (--save-every): the model's weights as end_epoch evaluated
  // them (the average with --ema), with the metadata of best.safetensors (its "epoch", "val_accuracy");
  // atomic like every file.
  void save_snapshot(int epoch, double val_acc) const {
    std::filesystem::create_directories(path(kSnapshots));
    char name[48];
    std::snprintf(name, sizeof name, "%s/epoch_%03d.safetensors", kSnapshots, epoch);
    io::ModelMetadata md = md_;
    md.extra["epoch"] = std::to_string(epoch);
    md.extra["val_accuracy"] = io::format_double(val_acc);
    io::save_weights(path(name), *model_, md);
  }
  // The weights file with the checkpoint id of state `s`: last.safetensors, or last.prev.safetensors
  // after a stop between the two writes of save_state. A state without an id (written before ids
  // existed) takes last.safetensors. Throws naming the files when neither matches.
  std::string weights_of(const io::TrainingState& s) const {
    const std::string last = path(kLastWeights);
    if (!s.has(kCheckpointKey)) return last;
    const std::string& want = s.get_string(kCheckpointKey);
    std::string found;
    for (const std::string& w : {last, path(kPrevWeights)}) {
      if (!std::filesystem::exists(w)) continue;
      const io::ModelMetadata md = io::read_weights_metadata(w);
      const auto it = md.extra.find(kCheckpointKey);
      const std::string id = it == md.extra.end() ? "none" : it->second;
      if (id == want) return w;
      found += (found.empty() ? "" : ", ") + w + " is checkpoint " + id;
    }
    fail("--resume: the weights and the training state in ", c_.out, " were not written together: ", s.path(),
         " is checkpoint ", want, ", but ", found.empty() ? last + " is missing" : found,
         " (start without --resume, or restore the pair)");
  }
  // A fresh run's id: a hash of every setting a resume compares (the data's content included). Two
  // runs share it only when they train the same network the same way, and then their weights at
  // one step are the same too; so the id never pairs files of different runs, and two such runs
  // still write byte-identical weights files (the smoke tests compare them with cmp).
  std::string settings_id() const {
    std::string text;
    for (const RunSettings& list : {run_settings(), recorded_run_settings()})
      for (const auto& [key, value] : list) text += key + "=" + value + "\n";
    return hex16(fnv1a(text));
  }
  // After each optimizer step: a weight that is NaN or infinite stops the run before it is used or
  // saved (the loss of that step was still finite, so the loss check alone missed it).
  void check_weights_finite() const {
    const ParamArena<float> a = model_->arena();
    const float* v = a.values.data();
    const std::int64_t n = a.size();
    bool finite = true;
    for (std::int64_t i = 0; i < n; ++i) finite &= std::isfinite(v[i]);
    if (finite) return;
    for (const auto& p : model_->named_parameters())
      for (std::int64_t i = 0; i < p.param->value.numel(); ++i)
        if (!std::isfinite(p.param->value.data()[i]))
          fail("training diverged: parameter ", p.name, " is ", p.param->value.data()[i], " after step ",
               progress_.step + 1, " (epoch ", progress_.epoch + 1,
               "; lower --lr, or use --clip-grad-norm); nothing was written for this step");
    fail("training diverged: a weight is not finite after step ", progress_.step + 1);
  }

  std::unique_ptr<LrSchedule> schedule_for(const TrainProgress& p) const {
    return make_schedule(c_, steps_per_epoch_, p.epochs_total * steps_per_epoch_);
  }
  double elapsed() const { return seconds_since(start_); }
  static double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }
  std::string path(const std::string& name) const { return (std::filesystem::path(c_.out) / name).string(); }
  std::string run_name() const { return c_.model + " " + size_args_text(find_model(c_.model), md_.size); }
  // confusion_<split>.png/.txt and worst_<split>.png/.txt (the kWorstExamples images of highest loss;
  // none without probabilities: data parallel validation) of one evaluated split; `title` names the TTA.
  void write_split_plots(const EvalResult& r, const data::Dataset& d, const std::string& split,
                         const std::string& title) const {
    const ConfusionMatrix& cm = r.confusion;
    write_confusion_png(path("confusion_" + split + ".png"), cm, title);
    io::write_file_atomic(path("confusion_" + split + ".txt"), title + "\n\n" + cm.report() +
                                                                 "\nconfusion matrix (rows: true class, columns: predicted)\n" +
                                                                 cm.table());
    write_worst_examples(path("worst_" + split + ".png"), d, r.probabilities, kWorstExamples, title);
  }

  // ---- the run folder ---------------------------------------------------------------------------
  // A fresh run refuses a folder that holds another run's checkpoint or weights (they would be
  // replaced) unless --overwrite says to replace them; --resume continues that run instead.
  void check_folder_is_free() const {
    if (c_.resume || c_.overwrite) return;
    std::string found;
    for (const char* name : {kLastState, kLastWeights, kPrevWeights, kBestWeights})
      if (std::filesystem::exists(path(name))) found.append(found.empty() ? "" : ", ").append(name);
    if (!found.empty())
      fail("--out ", c_.out, " holds another run (", found, "): continue it with --resume, replace it with "
           "--overwrite, or choose another --out");
  }
  // This process's first write into --out, once the data and the model are known to be good (a
  // failing --overwrite run loses nothing): a fresh --overwrite run first clears the previous run's
  // files; then config.json (rewritten on a resume: --epochs may have changed).
  void begin_writing() {
    if (!c_.resume && c_.overwrite) {
      namespace fs = std::filesystem;
      int removed = 0;
      for (const fs::directory_entry& e : fs::directory_iterator(c_.out)) {
        const std::string name = e.path().filename().string();
        const auto ends = [&](const std::string& tail) {
          return name.size() >= tail.size() && name.compare(name.size() - tail.size(), tail.size(), tail) == 0;
        };
        const bool run_file = e.is_regular_file() && (ends(".safetensors") || ends(".png") || name == "history.csv" ||
                                                      name == "test_results.txt" || name == kConfigFile ||
                                                      (name.rfind("confusion_", 0) == 0 && ends(".txt")));
        if (run_file || (e.is_directory() && name == "snapshots"))  // --save-every's folder
          removed += static_cast<int>(fs::remove_all(e.path()));
      }
      log_ << "--overwrite: removed " << removed << " file(s) of the previous run in " << c_.out << "\n";
    }
    // Readable: one flag per line.
    std::string text = "{\n  \"moodnet_version\": \"" MOODNET_VERSION_STRING "\",\n";
    if (!c_.program.empty()) text += "  \"program\": " + io::to_json(io::Json(c_.program)) + ",\n";
    text += "  \"model\": " + io::to_json(io::Json(c_.model)) + ",\n  \"flags\": " + flags_json(true) + "\n}\n";
    io::write_file_atomic(path(kConfigFile), text);
  }
  // The flags as a JSON object, numbers and booleans typed ({"epochs": 30, "lr": 0.05, ...});
  // `pretty`: one per line (config.json), else compact (the weights' "flags").
  std::string flags_json(bool pretty) const {
    std::string out = "{";
    for (std::size_t i = 0; i < c_.flags.size(); ++i) {
      const cli::FlagValue& f = c_.flags[i];
      if (i) out += ',';
      if (pretty) out += "\n    ";
      out += io::to_json(io::Json(f.name));
      out += pretty ? ": " : ":";
      out += f.kind == cli::FlagValue::Kind::text ? io::to_json(io::Json(f.text)) : f.text;  // exact_text: valid JSON
    }
    return out + (pretty && !c_.flags.empty() ? "\n  }" : "}");
  }
  // --resume --epochs N: the run continues to N epochs. Its schedule is planned again for N epochs
  // and continues from the current step (the rate at step s is the new plan's rate at s), as the time
  // budget's shortening does; the run is therefore not bit-identical to one planned for N from the
  // start, except with a schedule that does not depend on the length (plateau).
  void replan(int epochs) {
    TrainProgress& p = progress_;
    MOODNET_CHECK(epochs > p.epoch || (epochs == p.epoch && p.batch_in_epoch == 0), "--epochs ", epochs, ": the run in ",
                  c_.out, " has already trained ", p.epoch, " epoch(s)", p.batch_in_epoch ? " and part of the next" : "",
                  " (give more to extend it)");
    log_ << "--epochs " << epochs << ": the run is re-planned from " << p.epochs_total << " to " << epochs
         << " epochs at step " << p.step << " (the schedule continues from this step on the new length)\n";
    p.epochs_total = epochs;
    auto rescheduled = schedule_for(p);
    rescheduled->load_state(schedule_->state());
    schedule_ = std::move(rescheduled);
  }

  bool root() const { return !group_ || group_->rank() == 0; }

  TrainConfig c_;
  TrainingGroup* group_ = nullptr;
  std::ostream null_log_{nullptr};  // the log of ranks other than 0
  std::ostream& log_;
  Clock::time_point start_;
  // phase 1
  TrainData data_;
  // phase 2
  io::ModelMetadata md_;
  std::unique_ptr<Model<float>> model_;
  std::unique_ptr<CrossEntropyLoss<float>> loss_;
  std::unique_ptr<Optimizer<float>> opt_;
  std::unique_ptr<WeightAverage<float>> ema_;  // --ema, else null
  std::shared_ptr<graph::ConvAlgorithmTable> conv_table_;  // --winograd measured, f2 or f4, else null
  std::optional<kernels::ScopedMatmulPrecision> precision_;  // --precision bf16, else empty
  std::size_t conv_measurements_logged_ = 0;
  std::unique_ptr<data::BatchLoader> loader_;
  data::Dataset val_shard_;  // data parallel: this rank's part of the validation split
  std::int64_t steps_per_epoch_ = 0;
  std::vector<std::int32_t> predicted_;  // argmax of each batch row
  // phase 3 on: the loop's state (train_state.hpp) and what is derived from it
  TrainProgress progress_;
  std::unique_ptr<LrSchedule> schedule_;
  std::vector<EpochRecord> history_;
  std::string run_id_;  // shared by every checkpoint of this run, resumes included
  std::vector<double> epoch_times_;  // this process's whole-epoch seconds (fit_time_budget)
};

}  // namespace moodnet::train
