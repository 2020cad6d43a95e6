// Data loading costs: decoding all of FER-2013 from its image folders (parallel over files) and
// preparing one augmented training batch of 128 (what the loader's worker does per step).
//
//   bench_data_loading --benchmark_repetitions=5 --benchmark_report_aggregates_only=true
//
// The dataset folder is ../shared/fer2013 (or $MOODNET_FER2013_DIR); the load benchmark is
// skipped with an error when it is absent.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>

#include "moodnet/core/parallel.hpp"
#include "moodnet/data/fer2013.hpp"
#include "moodnet/data/loader.hpp"

namespace {
std::filesystem::path fer_dir() {
  if (const char* env = std::getenv("MOODNET_FER2013_DIR")) return env;
  return std::filesystem::path(MOODNET_SHARED_DIR) / "fer2013";
}

// Loads train/ and test/ (all 35,887 images); arg = threads.
void BM_LoadFer2013Folders(benchmark::State& state) {
  const auto root = fer_dir();
  if (!std::filesystem::is_directory(root / "train")) {
    state.SkipWithError("FER-2013 not found");
    return;
  }
  moodnet::set_num_threads(static_cast<int>(state.range(0)));
  std::int64_t images = 0;
  for (auto _ : state) {
    auto train = moodnet::data::load_fer2013(root, moodnet::data::Split::train);
    auto test = moodnet::data::load_fer2013(root, moodnet::data::Split::test);
    images = train.size() + test.size();
    benchmark::DoNotOptimize(train.images.data());
  }
  state.counters["images"] = static_cast<double>(images);
  state.counters["images/s"] = benchmark::Counter(static_cast<double>(images), benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_LoadFer2013Folders)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime()->Iterations(1);

// One batch of 128 with the FER-2013 recipe on one thread (the background worker's job).
void BM_AugmentBatch128(benchmark::State& state) {
  auto d = moodnet::data::Dataset::with_capacity(moodnet::data::fer2013_class_names(), 1024);
  for (std::int64_t i = 0; i < d.images.numel(); ++i) d.images[i] = static_cast<std::uint8_t>((i * 37) % 251);
  for (std::int64_t i = 0; i < 1024; ++i) d.keys[static_cast<std::size_t>(i)] = std::to_string(i);
  moodnet::data::LoaderOptions o;
  o.batch_size = 128;
  o.augment = moodnet::data::AugmentConfig::fer2013();
  moodnet::data::BatchLoader loader(d, o);
  loader.start_epoch(0);
  std::int64_t b = 0;
  for (auto _ : state) {
    auto batch = loader.make_batch(b++ % loader.batches_per_epoch(), /*parallel=*/false);
    benchmark::DoNotOptimize(batch.images.data());
  }
  state.SetItemsProcessed(state.iterations() * 128);
}
BENCHMARK(BM_AugmentBatch128)->Unit(benchmark::kMillisecond);
}  // namespace

BENCHMARK_MAIN();
