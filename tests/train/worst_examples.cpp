// The worst-classified images (issue 18, like fastai's plot_top_losses): which k are chosen and in
// what order (lowest p(true class) first, ties by index), the grid as a PNG that decodes to the
// layout's size with each image where the layout puts it (gray and colour, square and not), the
// titles naming the TTA, and the trainer writing worst_<split>.png beside its confusion matrices.
#include "moodnet/train/worst_examples.hpp"

#include <catch2/catch.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "moodnet/data/image_decode.hpp"
#include "moodnet/train/tta_title.hpp"
#include "../support/temp_dir.hpp"
#include "tiny_run.hpp"

using namespace moodnet;
using namespace moodnet::train;

namespace {

// n images of `shape`, class i % classes, image i's pixel j (per channel plane c) = (i * 37 + j * 11 + c * 90) % 256.
data::Dataset worst_test_dataset(std::int64_t n, data::ImageShape shape, std::vector<std::string> classes) {
  const int k = static_cast<int>(classes.size());
  data::Dataset d = data::Dataset::with_capacity(std::move(classes), n, shape, "worst-test");
  for (std::int64_t i = 0; i < n; ++i) {
    std::uint8_t* px = d.image(i);
    for (int c = 0; c < shape.channels; ++c)
      for (std::int64_t j = 0; j < shape.plane(); ++j)
        px[c * shape.plane() + j] = static_cast<std::uint8_t>((i * 37 + j * 11 + c * 90) % 256);
    d.labels[i] = static_cast<std::int32_t>(i % k);
    d.keys[static_cast<std::size_t>(i)] = "img" + std::to_string(i);
  }
  return d;
}

// Probabilities [n, k] whose true-class entry of image i is p_true[i], the rest shared evenly
// except that class `wrong[i]` (when >= 0) takes what is left first.
std::vector<float> worst_test_probs(const data::Dataset& d, const std::vector<double>& p_true) {
  const int k = d.num_classes();
  std::vector<float> p(static_cast<std::size_t>(d.size() * k));
  for (std::int64_t i = 0; i < d.size(); ++i) {
    const int t = d.label(i);
    const int other = (t + 1) % k;
    for (int j = 0; j < k; ++j) {
      const double v = j == t ? p_true[static_cast<std::size_t>(i)]
                       : j == other ? (1 - p_true[static_cast<std::size_t>(i)]) * 0.8
                                    : (1 - p_true[static_cast<std::size_t>(i)]) * 0.2 / std::max(k - 2, 1);
      p[static_cast<std::size_t>(i * k + j)] = static_cast<float>(v);
    }
  }
  return p;
}

}  // namespace

TEST_CASE("worst_examples: lowest p(true class) first, ties in index order, k clamped", "[train][worst]") {
  const data::Dataset d = worst_test_dataset(7, {1, 4, 4}, {"a", "b", "c"});
  //                        0    1    2     3    4     5    6
  const std::vector<double> pt = {0.5, 0.1, 0.1, 0.9, 0.05, 0.1, 0.7};
  const std::vector<float> p = worst_test_probs(d, pt);
  const auto w = worst_examples(p.data(), d.labels.data(), d.size(), 3, 4);
  REQUIRE(w.size() == 4);
  CHECK(w[0].index == 4);  // 0.05
  CHECK(w[1].index == 1);  // the three 0.1s in index order
  CHECK(w[2].index == 2);
  CHECK(w[3].index == 5);
  // Image 4 is class 1; the rest went to class 2 (0.76) before class 0 (0.19).
  CHECK(w[0].true_class == 1);
  CHECK(w[0].predicted == 2);
  CHECK(w[0].p_true == Approx(0.05));
  CHECK(w[0].p_predicted == Approx(0.76));
  CHECK(w[0].wrong());

  // More asked than there are: all 7, worst first; the last is image 3 (0.9), right.
  const auto all = worst_examples(p.data(), d.labels.data(), d.size(), 3, 100);
  REQUIRE(all.size() == 7);
  const std::vector<std::int64_t> order = {4, 1, 2, 5, 0, 6, 3};
  for (std::size_t i = 0; i < order.size(); ++i) CHECK(all[i].index == order[i]);
  CHECK_FALSE(all.back().wrong());
  CHECK(all.back().predicted == all.back().true_class);
  CHECK(worst_examples(p.data(), d.labels.data(), d.size(), 3, 0).empty());

  // Equal maxima: the first one is the prediction (as evaluate's argmax); a NaN counts as 0.
  const std::vector<float> tie = {0.4f, 0.4f, 0.2f, NAN, 0.5f, 0.5f};
  const std::int32_t labels[] = {2, 0};
  const auto t = worst_examples(tie.data(), labels, 2, 3, 2);
  REQUIRE(t.size() == 2);
  CHECK(t[0].index == 1);  // p_true NaN -> 0, below 0.2
  CHECK(t[0].p_true == 0.0);
  CHECK(t[1].predicted == 0);
  const std::int32_t bad[] = {3, 0};
  CHECK_THROWS_WITH(worst_examples(tie.data(), bad, 2, 3, 2), Catch::Contains("label 3 of image 0"));
}

TEST_CASE("worst examples grid: the PNG decodes to the layout's size, each image in its tile", "[train][worst]") {
  test::TempDir dir("worst");
  struct Case {
    data::ImageShape shape;
    std::int64_t n, k;
  };
  // 48x48 gray (scaled 4x), 32x32 colour, a non-square 20x30 colour image, fewer images than asked.
  for (const Case& cs : {Case{{1, 48, 48}, 30, 16}, Case{{3, 32, 32}, 10, 6}, Case{{3, 20, 30}, 5, 8}}) {
    CAPTURE(cs.shape.str(), cs.n, cs.k);
    const data::Dataset d = worst_test_dataset(cs.n, cs.shape, {"angry", "happy", "a-very-long-class-name"});
    std::vector<double> pt(static_cast<std::size_t>(cs.n));
    for (std::int64_t i = 0; i < cs.n; ++i) pt[static_cast<std::size_t>(i)] = 0.01 + 0.9 * static_cast<double>((i * 7) % cs.n) / cs.n;
    const std::vector<float> p = worst_test_probs(d, pt);
    const std::string title = tta_title("test (customnet w 8)", Tta::flip);
    const std::string file = dir.file("worst_" + std::to_string(cs.n) + ".png");
    write_worst_examples_png(file, d, p, cs.k, title);

    const auto worst = worst_examples(p.data(), d.labels.data(), d.size(), d.num_classes(), cs.k);
    const std::int64_t shown = std::min(cs.n, cs.k);
    REQUIRE(static_cast<std::int64_t>(worst.size()) == shown);
    const std::string subtitle = std::to_string(shown) + " highest losses of " + std::to_string(cs.n) +
                                 " images (-ln p(true class)), worst first";
    const WorstGridLayout l = worst_grid_layout(cs.shape, static_cast<int>(shown), title, subtitle);
    const data::Image png = data::load_image(file, 3);
    CHECK(png.width == l.width);
    CHECK(png.height == l.height);
    CHECK(l.columns == std::min<std::int64_t>(shown, 4));
    CHECK(l.rows == (shown + 3) / 4);
    // The longer side is scaled to 192 px, the aspect kept.
    CHECK(std::max(l.image_w, l.image_h) == 192);
    CHECK(l.image_w * cs.shape.height == Approx(l.image_h * cs.shape.width).margin(cs.shape.height));
    // Each tile shows its image: sampled pixels equal the stored ones (nearest neighbour).
    const std::int64_t plane = static_cast<std::int64_t>(png.width) * png.height;
    for (std::size_t i = 0; i < worst.size(); ++i) {
      const std::uint8_t* img = d.image(worst[i].index);
      for (const auto& [fx, fy] : {std::pair{0.0, 0.0}, std::pair{0.5, 0.25}, std::pair{0.99, 0.99}}) {
        const int x = static_cast<int>(fx * l.image_w), y = static_cast<int>(fy * l.image_h);
        const std::int64_t sx = std::int64_t{x} * cs.shape.width / l.image_w, sy = std::int64_t{y} * cs.shape.height / l.image_h;
        const std::int64_t at = static_cast<std::int64_t>(l.image_y(static_cast<int>(i)) + y) * png.width + l.image_x(static_cast<int>(i)) + x;
        for (int c = 0; c < 3; ++c) {
          const int sc = cs.shape.channels == 1 ? 0 : c;
          CHECK(png.pixels[static_cast<std::size_t>(c * plane + at)] ==
                img[sc * cs.shape.plane() + sy * cs.shape.width + sx]);
        }
      }
    }
  }
  // No probabilities (data parallel validation) or no images asked: no file.
  const data::Dataset d = worst_test_dataset(3, {1, 8, 8}, {"a", "b"});
  write_worst_examples_png(dir.file("none.png"), d, {}, 4, "x");
  write_worst_examples_png(dir.file("zero.png"), d, worst_test_probs(d, {0.1, 0.2, 0.3}), 0, "x");
  CHECK_FALSE(std::filesystem::exists(dir / "none.png"));
  CHECK_FALSE(std::filesystem::exists(dir / "zero.png"));
}

TEST_CASE("worst examples table: one line per image, worst first, with its key; written beside the grid",
          "[train][worst]") {
  const data::Dataset d = worst_test_dataset(4, {1, 8, 8}, {"a", "b", "c"});
  const std::vector<float> p = worst_test_probs(d, {0.5, 0.1, 0.9, 0.3});
  const auto worst = worst_examples(p.data(), d.labels.data(), d.size(), d.num_classes(), 3);
  CHECK(worst_examples_table(d, worst, "Test (customnet w 8), TTA none") ==
        "Test (customnet w 8), TTA none\n"
        "3 highest losses of 4 images (-ln p(true class)), worst first\n\n"
        "#1   p(true) 0.1000  true b  pred c 0.7200  img1\n"
        "#2   p(true) 0.3000  true a  pred b 0.5600  img3\n"
        "#3   p(true) 0.5000  true a  pred a 0.5000  img0\n");
  test::TempDir dir("worst-table");
  write_worst_examples(dir.file("worst_test.png"), d, p, 3, "Test (customnet w 8), TTA none");
  CHECK(std::filesystem::exists(dir / "worst_test.png"));
  CHECK(io::read_file_bytes(dir.file("worst_test.txt")).size() == worst_examples_table(d, worst, "Test (customnet w 8), TTA none").size());
  write_worst_examples(dir.file("none.png"), d, {}, 3, "x");  // no probabilities: neither file
  CHECK_FALSE(std::filesystem::exists(dir / "none.png"));
  CHECK_FALSE(std::filesystem::exists(dir / "none.txt"));
}

TEST_CASE("worst examples tile text: true and predicted class with probabilities, cut to the tile", "[train][worst]") {
  using moodnet::train::detail::tile_line;
  CHECK(tile_line("true", "angry", 0.0042, WorstGridLayout::kTileChars) == "true angry 0.4%");
  CHECK(tile_line("pred", "surprise", 0.973, WorstGridLayout::kTileChars) == "pred surprise 97%");
  CHECK(tile_line("pred", "surprise", 0.9996, WorstGridLayout::kTileChars) == "pred surprise 100%");
  CHECK(tile_line("true", "happy", 0.0001, WorstGridLayout::kTileChars) == "true happy <0.1%");
  // A long name is cut to what is left of the line: 20 - "true" - "25%" - 2 spaces = 11 characters.
  const std::string cut = tile_line("true", "a-very-long-class-name", 0.25, WorstGridLayout::kTileChars);
  CHECK(cut == "true a-very-long 25%");
  CHECK(static_cast<int>(cut.size()) == WorstGridLayout::kTileChars);
}

TEST_CASE("plot titles name the TTA mode their numbers use", "[train][worst]") {
  CHECK(tta_title("PrivateTest (customnet w 32)", Tta::flip) == "PrivateTest (customnet w 32), TTA flip");
  CHECK(tta_title("test", Tta::ten_crop) == "test, TTA tencrop");
  CHECK(tta_title("Validation, epoch 3", Tta::none) == "Validation, epoch 3, TTA none");
  for (const char* name : {"none", "flip", "tencrop"}) CHECK(std::string(tta_name(parse_tta(name))) == name);
}

TEST_CASE("Trainer: worst_<split>.png beside each confusion matrix, titles naming the TTA", "[train][worst]") {
  test::TempDir dir("worst-run");
  test::write_tiny_run_data(dir / "data");
  TrainConfig c = test::tiny_run_config(dir / "data", dir / "run");
  c.epochs = 1;
  c.tta = "flip";
  std::string log;
  test::tiny_run(c, &log);
  const auto first_line = [](const std::filesystem::path& f) {
    std::ifstream in(f);
    std::string s;
    std::getline(in, s);
    return s;
  };
  const auto check_grid = [](const std::filesystem::path& f) {
    REQUIRE(std::filesystem::exists(f));
    const data::Image png = data::load_image(f, 3);
    CHECK(png.width >= WorstGridLayout::kMargin * 2 + 192);  // at least one 16x16 image at 192 px
    CHECK(png.height >= WorstGridLayout::kMargin * 2 + 192);
  };
  const std::filesystem::path run = dir / "run";
  CHECK(first_line(run / "confusion_test.txt") == "Test (customnet w 8), TTA flip");
  check_grid(run / "worst_test.png");
  CHECK(first_line(run / "worst_test.txt") == "Test (customnet w 8), TTA flip");
  // The validation matrix and grid are written at a new best epoch (none when its accuracy stayed 0).
  if (log.find("new best validation accuracy ") != std::string::npos) {
    CHECK(first_line(run / "confusion_validation.txt") == "Validation, epoch 1, TTA none");
    check_grid(run / "worst_validation.png");
  } else {
    CHECK_FALSE(std::filesystem::exists(run / "confusion_validation.txt"));
    CHECK_FALSE(std::filesystem::exists(run / "worst_validation.png"));
  }
  CHECK_THAT(log, Catch::Contains("worst_*.png"));
}
