// The weights' moving average (optim/weight_average.hpp) and the trainer's --ema / --save-every:
//   - the average of a tiny model follows a naive loop, in double and in float; the warm-up's decays
//     are min(d, (1 + t) / (10 + t)); batchnorm running statistics are averaged, counters are not;
//   - swapping the average in and out is exact, and a compiled eval plan (batchnorm folded into the
//     convolution) computes with what was swapped in;
//   - the average survives the training-state file, and every value it writes is one the load needs;
//   - in the trainer (tiny_run.hpp: a tiny synthetic dataset, CustomNet w 8): the raw training is
//     the same with and without --ema, best.safetensors holds the average, a run stopped twice and
//     resumed writes the same files byte for byte as an uninterrupted one, snapshots appear every N
//     epochs and load, a resume that changes --ema is refused, and bad values give a one-line error.
#include <catch2/catch.hpp>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "moodnet/core/rng.hpp"
#include "moodnet/layers.hpp"
#include "moodnet/optim/weight_average.hpp"
#include "moodnet/train/train_cli.hpp"
#include "moodnet/train/train_state.hpp"
#include "moodnet/train/trainer.hpp"
#include "tiny_run.hpp"

using namespace moodnet;
using namespace moodnet::train;
namespace fs = std::filesystem;

namespace {

// conv 1->3 (3x3, bias) -> batchnorm(3) -> ReLU -> flatten -> linear 48->2, on 1x4x4 inputs.
template <class T>
Model<T> wa_tiny_model(std::uint64_t seed = 3) {
  auto net = std::make_unique<Sequential<T>>();
  net->template emplace<Conv2d<T>>(1, 3, 3, 1, 1, 1, true);
  net->template emplace<BatchNorm2d<T>>(3);
  net->template emplace<ReLU<T>>();
  net->template emplace<Flatten<T>>();
  net->template emplace<Linear<T>>(48, 2);
  return Model<T>(std::move(net), Shape{1, 4, 4}, seed);
}

// The model's float buffers back to back (running_mean, running_var of the batchnorm).
template <class T>
std::vector<T> wa_float_buffers(Model<T>& m) {
  std::vector<T> out;
  for (auto& b : m.named_buffers())
    if (!b.buffer.counter) out.insert(out.end(), b.buffer.values.data(), b.buffer.values.data() + b.buffer.values.numel());
  return out;
}
template <class T>
std::vector<T> wa_params(Model<T>& m) {
  const TensorView<T> v = m.parameter_values();
  return std::vector<T>(v.data(), v.data() + v.numel());
}
// New random weights and float buffers (variances kept positive), as a training step would leave.
template <class T>
void wa_scramble(Model<T>& m, Rng& rng) {
  const TensorView<T> v = m.parameter_values();
  for (std::int64_t i = 0; i < v.numel(); ++i) v.data()[i] = static_cast<T>(rng.normal());
  for (auto& b : m.named_buffers()) {
    if (b.buffer.counter) {
      ++*b.buffer.counter;
      continue;
    }
    for (std::int64_t i = 0; i < b.buffer.values.numel(); ++i)
      b.buffer.values.data()[i] = static_cast<T>(0.5 + rng.uniform());
  }
}
std::int64_t wa_counter(Model<double>& m) {
  for (auto& b : m.named_buffers())
    if (b.buffer.counter) return *b.buffer.counter;
  return -1;
}

std::vector<float> wa_file_params(const fs::path& weights) {
  Model<float> m = io::load_model<float>(weights.string());
  return wa_params(m);
}
std::vector<float> wa_state_buffer(const io::TrainingState& s, const std::string& name) {
  for (const auto& b : s.buffers())
    if (b.name == name) {
      std::vector<float> v(b.bytes.size() / sizeof(float));
      std::memcpy(v.data(), b.bytes.data(), b.bytes.size());
      return v;
    }
  FAIL("no buffer " << name << " in " << s.path());
  return {};
}

// Runs `train` (train_cli.hpp's train_any_main) on `args`; returns its exit code, its stderr in `err`.
int wa_run_cli(std::vector<std::string> args, std::string& err) {
  args.insert(args.begin(), "train");
  std::vector<const char*> argv;
  for (const auto& a : args) argv.push_back(a.c_str());
  char path[] = "/tmp/moodnet-ema-stderr.XXXXXX";
  const int fd = ::mkstemp(path);
  REQUIRE(fd >= 0);
  std::fflush(stderr);
  const int saved = ::dup(2);
  ::dup2(fd, 2);
  const int code = train_any_main(static_cast<int>(argv.size()), argv.data());
  std::fflush(stderr);
  ::dup2(saved, 2);
  ::close(saved);
  ::close(fd);
  err = test::read_bytes(path);
  fs::remove(path);
  return code;
}

}  // namespace

TEST_CASE("WeightAverage: the warm-up's decays are min(d, (1 + t) / (10 + t))", "[train][ema]") {
  Model<double> m = wa_tiny_model<double>();
  WeightAverage<double> warm(m, 0.9, true), plain(m, 0.9, false);
  CHECK(warm.decay_at(0) == 0.1);
  CHECK(warm.decay_at(1) == 2.0 / 11);
  CHECK(warm.decay_at(2) == 0.25);
  CHECK(warm.decay_at(80) == 81.0 / 90);  // 0.9 exactly at t = 80, then d
  CHECK(warm.decay_at(81) == 0.9);
  CHECK(warm.decay_at(100000) == 0.9);
  for (std::int64_t t : {0, 1, 7, 1000}) CHECK(plain.decay_at(t) == 0.9);
  CHECK_THROWS_WITH(WeightAverage<double>(m, 1.0, true), "weight average: the decay must be in (0, 1), got 1");
  CHECK_THROWS_WITH(WeightAverage<double>(m, 0.0, true), "weight average: the decay must be in (0, 1), got 0");
}

TEST_CASE("WeightAverage: parameters and batchnorm statistics follow a naive moving-average loop", "[train][ema]") {
  for (const bool warmup : {false, true}) {
    DYNAMIC_SECTION((warmup ? "with" : "without") << " warm-up") {
      Model<double> m = wa_tiny_model<double>();
      Model<float> f = wa_tiny_model<float>();
      Rng rng(17);
      wa_scramble(m, rng);
      // The float model gets the same numbers, rounded.
      const auto copy_to_float = [&] {
        const std::vector<double> p = wa_params(m), b = wa_float_buffers(m);
        for (std::size_t i = 0; i < p.size(); ++i) f.parameter_values().data()[i] = static_cast<float>(p[i]);
        std::size_t at = 0;
        for (auto& nb : f.named_buffers())
          if (!nb.buffer.counter)
            for (std::int64_t i = 0; i < nb.buffer.values.numel(); ++i) nb.buffer.values.data()[i] = static_cast<float>(b[at++]);
      };
      copy_to_float();
      WeightAverage<double> avg(m, 0.8, warmup);
      WeightAverage<float> avg_f(f, 0.8, warmup);
      std::vector<double> naive_p = wa_params(m), naive_b = wa_float_buffers(m);  // starts at the weights
      for (int t = 0; t < 40; ++t) {
        wa_scramble(m, rng);
        copy_to_float();
        avg.update();
        avg_f.update();
        const double d = warmup ? std::min(0.8, (1.0 + t) / (10.0 + t)) : 0.8;
        const std::vector<double> w = wa_params(m), b = wa_float_buffers(m);
        for (std::size_t i = 0; i < w.size(); ++i) naive_p[i] = d * naive_p[i] + (1 - d) * w[i];
        for (std::size_t i = 0; i < b.size(); ++i) naive_b[i] = d * naive_b[i] + (1 - d) * b[i];
      }
      CHECK(avg.updates() == 40);
      const std::int64_t counter = wa_counter(m);
      const std::vector<double> raw_p = wa_params(m), raw_b = wa_float_buffers(m);
      avg.swap();  // the average in the model
      const std::vector<double> got_p = wa_params(m), got_b = wa_float_buffers(m);
      REQUIRE(got_p.size() == naive_p.size());
      REQUIRE(got_b.size() == naive_b.size());
      REQUIRE(got_b.size() == 6);  // running_mean [3], running_var [3]
      for (std::size_t i = 0; i < got_p.size(); ++i) CHECK(got_p[i] == Approx(naive_p[i]).epsilon(1e-13).margin(1e-13));
      for (std::size_t i = 0; i < got_b.size(); ++i) CHECK(got_b[i] == Approx(naive_b[i]).epsilon(1e-13).margin(1e-13));
      CHECK(wa_counter(m) == counter);  // num_batches_tracked is the model's own, not averaged
      avg.swap();
      CHECK(wa_params(m) == raw_p);  // bit for bit
      CHECK(wa_float_buffers(m) == raw_b);

      avg_f.swap();
      const std::vector<float> fp = wa_params(f), fb = wa_float_buffers(f);
      for (std::size_t i = 0; i < fp.size(); ++i) CHECK(fp[i] == Approx(naive_p[i]).margin(1e-5));
      for (std::size_t i = 0; i < fb.size(); ++i) CHECK(fb[i] == Approx(naive_b[i]).margin(1e-5));
    }
  }
}

TEST_CASE("WeightAverage: the first warm-up update weighs the weights 0.9, reset() restarts", "[train][ema]") {
  Model<double> m = wa_tiny_model<double>();
  m.parameter_values().fill(1.0);
  WeightAverage<double> avg(m, 0.999, true);
  m.parameter_values().fill(3.0);
  avg.update();  // 0.1 * 1 + 0.9 * 3
  {
    WeightAverageScope<double> in(&avg);
    for (std::int64_t i = 0; i < m.num_parameters(); ++i) CHECK(m.parameter_values()[i] == Approx(2.8).epsilon(1e-15));
  }
  for (std::int64_t i = 0; i < m.num_parameters(); ++i) CHECK(m.parameter_values()[i] == 3.0);  // the scope restored
  avg.reset();
  CHECK(avg.updates() == 0);
  WeightAverageScope<double> none(nullptr);  // no average: nothing happens
  avg.swap();
  for (std::int64_t i = 0; i < m.num_parameters(); ++i) CHECK(m.parameter_values()[i] == 3.0);
}

TEST_CASE("WeightAverage: a compiled eval plan computes with the swapped-in weights", "[train][ema]") {
  Model<float> m = wa_tiny_model<float>(5), twin = wa_tiny_model<float>(6);
  Rng rng(23);
  Tensor<float> x({4, 1, 4, 4});
  for (std::int64_t i = 0; i < x.numel(); ++i) x.data()[i] = static_cast<float>(rng.normal());
  WeightAverage<float> avg(m, 0.5, false);
  wa_scramble(m, rng);
  avg.update();
  wa_scramble(m, rng);
  m.eval();
  const TensorView<const float> y_raw = m.forward(x);  // compiles the eval plan (batchnorm folded)
  const std::vector<float> raw(y_raw.data(), y_raw.data() + y_raw.numel());
  avg.swap();
  const TensorView<const float> y_avg = m.forward(x);
  const std::vector<float> averaged(y_avg.data(), y_avg.data() + y_avg.numel());
  // The twin, given the averaged weights and statistics by copy, in a plan of its own.
  std::copy(m.parameter_values().data(), m.parameter_values().data() + m.num_parameters(), twin.parameter_values().data());
  auto mine = m.named_buffers(), its = twin.named_buffers();
  for (std::size_t i = 0; i < mine.size(); ++i)
    if (!mine[i].buffer.counter) its[i].buffer.values.copy_from(mine[i].buffer.values);
  twin.eval();
  const TensorView<const float> y_twin = twin.forward(x);
  const std::vector<float> expected(y_twin.data(), y_twin.data() + y_twin.numel());
  CHECK(averaged == expected);
  CHECK(averaged != raw);
}

TEST_CASE("WeightAverage: the training-state file keeps the average; each saved entry is needed", "[train][ema]") {
  test::TempDir dir("ema-state");
  Model<float> m = wa_tiny_model<float>();
  Rng rng(29);
  WeightAverage<float> avg(m, 0.99, true);
  for (int i = 0; i < 3; ++i) wa_scramble(m, rng), avg.update();
  io::TrainingState t;
  save_weight_average(t, avg);
  io::save_training_state(dir.file("s.safetensors"), t);
  const io::TrainingState back = io::load_training_state(dir.file("s.safetensors"));

  Model<float> m2 = wa_tiny_model<float>(9);
  WeightAverage<float> avg2(m2, 0.99, true);
  load_weight_average(back, avg2);
  CHECK(avg2.updates() == 3);
  avg.swap(), avg2.swap();
  CHECK(wa_params(m2) == wa_params(m));
  CHECK(wa_float_buffers(m2) == wa_float_buffers(m));

  // Without any one of its entries the load fails naming it.
  std::vector<std::string> entries;
  for (const auto& [k, v] : t.values()) entries.push_back(k);
  for (const auto& b : t.buffers()) entries.push_back(b.name);
  CHECK(entries == std::vector<std::string>{"ema.updates", "ema.parameters", "ema.buffers"});
  for (const std::string& drop : entries) {
    io::TrainingState partial;
    for (const auto& [k, v] : t.values())
      if (k != drop) partial.set_string(k, v);
    for (const auto& b : t.buffers())
      if (b.name != drop) {
        std::vector<float> data(b.bytes.size() / sizeof(float));
        std::memcpy(data.data(), b.bytes.data(), b.bytes.size());
        partial.add_buffer(b.name, data.data(), b.shape);
      }
    CHECK_THROWS_WITH(load_weight_average(partial, avg2), Catch::Contains(drop) && Catch::Contains("missing"));
  }
  // Another model's average: refused by size.
  Model<float> other = [] {
    auto net = std::make_unique<Sequential<float>>();
    net->emplace<Flatten<float>>();
    net->emplace<Linear<float>>(16, 2);
    return Model<float>(std::move(net), Shape{1, 4, 4}, 1);
  }();
  WeightAverage<float> wrong(other, 0.99, true);
  CHECK_THROWS_WITH(load_weight_average(back, wrong), Catch::Contains("buffer ema.parameters has shape"));
}

TEST_CASE("Trainer --ema: the raw training is unchanged; validation and best.safetensors use the average",
          "[train][ema]") {
  test::TempDir dir("ema-trainer");
  test::write_tiny_run_data(dir / "data");
  TrainConfig off = test::tiny_run_config(dir / "data", dir / "off");
  off.epochs = 1;
  TrainConfig on = off;
  on.out = (dir / "on").string();
  on.ema = 0.9;
  test::tiny_run(off);
  test::tiny_run(on);
  // The training goes on with the raw weights: the same with and without the average.
  CHECK(wa_file_params(dir / "off" / "last.safetensors") == wa_file_params(dir / "on" / "last.safetensors"));
  // One epoch: best is epoch 1, whose weights are the average the state holds (and not the raw ones).
  const io::TrainingState s = io::load_training_state((dir / "on" / "last.state.safetensors").string());
  CHECK(s.get_string("ema") == "0.9 warmup");
  CHECK(s.get_int("ema.updates") == s.get_int("step"));
  Model<float> best = io::load_model<float>((dir / "on" / "best.safetensors").string());
  CHECK(wa_params(best) == wa_state_buffer(s, "ema.parameters"));
  CHECK(wa_float_buffers(best) == wa_state_buffer(s, "ema.buffers"));
  CHECK(wa_params(best) != wa_file_params(dir / "on" / "last.safetensors"));
  CHECK(wa_file_params(dir / "off" / "best.safetensors") == wa_file_params(dir / "off" / "last.safetensors"));
  // history.csv: the raw weights' validation beside the average's.
  const auto history = read_history_csv((dir / "on" / "history.csv").string());
  REQUIRE(history.size() == 1);
  CHECK(history[0].extras.count("raw_val_acc") == 1);
  CHECK(history[0].extras.count("raw_val_loss") == 1);
  CHECK(read_history_csv((dir / "off" / "history.csv").string())[0].extras.count("raw_val_acc") == 0);
}

TEST_CASE("Trainer --ema --save-every: a run stopped twice and resumed writes the uninterrupted run's files",
          "[train][ema]") {
  test::TempDir dir("ema-resume");
  test::write_tiny_run_data(dir / "data");
  TrainConfig c = test::tiny_run_config(dir / "data", dir / "whole");
  c.ema = 0.8;
  c.save_every = 2;
  test::tiny_run(c);
  const fs::path whole = dir / "whole";
  CHECK(fs::exists(whole / "snapshots" / "epoch_002.safetensors"));
  CHECK_FALSE(fs::exists(whole / "snapshots" / "epoch_001.safetensors"));
  CHECK_FALSE(fs::exists(whole / "snapshots" / "epoch_003.safetensors"));

  TrainConfig part = c;
  part.out = (dir / "parts").string();
  part.max_steps = 3;  // inside epoch 1 (5 batches of 4 per epoch)
  test::tiny_run(part);
  part.resume = true, part.max_steps = 12;  // inside epoch 3, after the epoch-2 snapshot
  test::tiny_run(part);
  part.max_steps = 0;
  test::tiny_run(part);
  const fs::path parts = dir / "parts";
  for (const char* f : {"best.safetensors", "last.safetensors", "last.state.safetensors", "snapshots/epoch_002.safetensors"}) {
    INFO(f);
    REQUIRE(fs::exists(parts / f));
    CHECK(test::read_bytes(parts / f) == test::read_bytes(whole / f));
  }
  // A snapshot loads as a model, with best.safetensors' metadata and its epoch.
  io::ModelMetadata md;
  Model<float> snap = io::load_model<float>((whole / "snapshots" / "epoch_002.safetensors").string(), &md);
  CHECK(md.model == "customnet");
  CHECK(md.extra.at("epoch") == "2");
  CHECK(md.extra.count("val_accuracy") == 1);
  CHECK(md.class_names == std::vector<std::string>{"left", "right"});
  CHECK(snap.num_parameters() > 0);
}

TEST_CASE("Trainer --save-every without --ema: snapshots hold the epoch's raw weights", "[train][ema]") {
  test::TempDir dir("ema-snapshots");
  test::write_tiny_run_data(dir / "data");
  TrainConfig c = test::tiny_run_config(dir / "data", dir / "run");
  c.epochs = 2, c.save_every = 1;
  test::tiny_run(c);
  CHECK(fs::exists(dir / "run" / "snapshots" / "epoch_001.safetensors"));
  CHECK(wa_file_params(dir / "run" / "snapshots" / "epoch_002.safetensors") ==
        wa_file_params(dir / "run" / "last.safetensors"));
  CHECK(wa_file_params(dir / "run" / "snapshots" / "epoch_001.safetensors") !=
        wa_file_params(dir / "run" / "last.safetensors"));
}

TEST_CASE("Trainer --ema: a resume that turns the average on, off or changes it is refused", "[train][ema]") {
  test::TempDir dir("ema-settings");
  test::write_tiny_run_data(dir / "data");
  TrainConfig plain = test::tiny_run_config(dir / "data", dir / "plain");
  plain.max_steps = 2;
  test::tiny_run(plain);
  TrainConfig averaged = plain;
  averaged.out = (dir / "averaged").string();
  averaged.ema = 0.99;
  test::tiny_run(averaged);

  plain.resume = averaged.resume = true;
  TrainConfig turn_on = plain;
  turn_on.ema = 0.99;
  CHECK_THROWS_WITH(test::tiny_run(turn_on), Catch::Contains("other settings (") && Catch::Contains("ema 0, now 0.99 warmup)"));
  TrainConfig turn_off = averaged;
  turn_off.ema = 0;
  CHECK_THROWS_WITH(test::tiny_run(turn_off), Catch::Contains("ema 0.99 warmup, now 0)"));
  TrainConfig no_warmup = averaged;
  no_warmup.ema_warmup = false;
  CHECK_THROWS_WITH(test::tiny_run(no_warmup), Catch::Contains("ema 0.99 warmup, now 0.99)"));

  // A state written before --ema existed (no "ema" setting, no average) resumed with --ema.
  const std::string state = (dir / "plain" / "last.state.safetensors").string();
  const io::TrainingState s = io::load_training_state(state);
  io::TrainingState old;
  for (const auto& [k, v] : s.values())
    if (k != "ema") old.set_string(k, v);
  for (const auto& b : s.buffers()) {
    REQUIRE(b.dtype == io::DType::F32);
    std::vector<float> data(b.bytes.size() / sizeof(float));
    std::memcpy(data.data(), b.bytes.data(), b.bytes.size());
    old.add_buffer(b.name, data.data(), b.shape);
  }
  io::save_training_state(state, old);
  CHECK_THROWS_WITH(test::tiny_run(turn_on), Catch::Contains("holds no weight average (its run was started without --ema)"));
  CHECK_NOTHROW(test::tiny_run(plain));  // and without --ema it still resumes
}

TEST_CASE("train --ema and --save-every: bad values are one-line errors, exit code 2", "[train][ema]") {
  const auto one_line_error = [](const std::vector<std::string>& args, const std::string& message) {
    std::string err;
    CHECK(wa_run_cli(args, err) == 2);
    CHECK_THAT(err, Catch::StartsWith("error: " + message));  // a debug build appends the failed check
    CHECK(std::count(err.begin(), err.end(), '\n') == 1);
  };
  one_line_error({"--ema", "1.5"}, "--ema must be a decay in [0, 1) (0 = off; e.g. 0.999), got 1.5");
  one_line_error({"--ema", "1"}, "--ema must be a decay in [0, 1) (0 = off; e.g. 0.999), got 1");
  one_line_error({"--ema", "-1"}, "flag --ema: -1 is out of range (must be >= 0)");
  one_line_error({"--save-every", "-1"}, "flag --save-every: -1 is out of range (must be >= 0)");
  one_line_error({"--save-every", "2.5"}, "flag --save-every: '2.5' is not an integer");
  // And through TrainConfig directly.
  TrainConfig c;
  c.save_every = -3;
  CHECK_THROWS_WITH(validate(c), "--save-every must be >= 0 (0 = off), got -3");
}
