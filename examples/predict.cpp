// Classifies photos with a trained weights file (or an ensemble of several), one result per face:
//   predict face1.jpg face2.png                            # the shipped CustomNet (below)
//   predict --weights W --json photos/ *.jpg               # folders: every image under them
//   find . -name '*.jpg' | predict --weights W --json -    # "-": a list of images on stdin
//   predict --weights A,B --tta flip photo.jpg             # an ensemble: probabilities averaged
//   predict --faces --annotate out.png group.jpg           # find the faces (OpenCV), draw them
//   predict --boxes boxes.txt                              # lines "FILE X Y W H", several per file
//   predict --crop 410,120,380,380 photo.jpg               # the face's box (x,y,w,h), in pixels
//   predict --fit letterbox strip.png                      # whole image, aspect kept, padded
//   predict --weights W --logits-out x.safetensors *.jpg   # inputs + logits for tools/compare_with_pytorch.py
// Any size, colour or gray: everything about the model's input comes from the weights file's
// metadata — images are converted to the model's channels (gray by BT.601 luma, or RGB), fitted to
// its stored size, centre-cropped to its input when it was trained on crops, and normalised per
// channel; the labels are its class names. Photos are first turned upright by their EXIF orientation
// (phone JPEGs), cut to each box (--crop, --boxes, or the faces --faces finds), then fitted by --fit
// (data/photo.hpp): crop (default: the largest centred window with the model's aspect, nothing
// distorted), stretch (the whole box, distorted when the aspects differ) or letterbox (the whole
// box, aspect kept, the bands filled with the training mean).
//
// Output: one line per box (the whole image when no box is asked for): text, or with --json
//   {"file": "team.jpg", "box": [x, y, w, h], "label": "happy", "probs": {"angry": 0.01, ...}}
// A file that cannot be read or classified gives {"file": ..., "error": "..."} (text: a line on
// stderr) and the others go on; the exit status is then 1. --strict stops at the first such file
// before printing anything (exit 2). --faces on a photo without a face gives {"file": ..., "faces": 0}.
//
// Without --weights, predict uses the shipped CustomNet, models/customnet_w32.safetensors, found
// in the first folder above the program that has it (build/<preset>/examples/predict -> the source
// tree) or in the current folder.
#include <moodnet/cli/flags.hpp>
#include <moodnet/data/photo.hpp>
#include <moodnet/data/photo_inputs.hpp>
#include <moodnet/io/atomic_file.hpp>
#include <moodnet/io/json.hpp>
#include <moodnet/io/safetensors.hpp>
#include <moodnet/report.hpp>  // --annotate: boxes and moods drawn, written as PNG
#include <moodnet/train/classifier_flags.hpp>
#include <moodnet/train/ensemble.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

#include "support/face_detector.hpp"

using namespace moodnet;
namespace fs = std::filesystem;

namespace {

constexpr const char* kShippedWeights = "models/customnet_w32.safetensors";

// The shipped CustomNet for a run without --weights (see the header comment); empty if not found.
std::string shipped_weights(const char* argv0) {
  std::error_code ec;
  fs::path exe = fs::read_symlink("/proc/self/exe", ec);
  if (ec) exe = fs::absolute(argv0, ec);
  std::vector<fs::path> dirs;
  for (fs::path d = exe.parent_path(); !d.empty() && dirs.size() < 5; d = d.parent_path()) {
    dirs.push_back(d);
    if (d == d.root_path()) break;
  }
  dirs.push_back(fs::current_path(ec));
  for (const fs::path& d : dirs)
    if (fs::is_regular_file(d / kShippedWeights, ec)) return (d / kShippedWeights).string();
  return {};
}

// One output line: a classified box, a file's error, or a photo without faces.
struct Record {
  std::size_t input = 0;  // index of the image in the run's inputs
  std::string file;
  data::PixelBox box;
  std::int64_t row = -1;  // its row of the batch when it is a result
  std::string error;      // not empty: an error record
  bool no_face = false;
};

std::string probability_text(float p) {
  if (!std::isfinite(p)) return "null";  // JSON has no NaN
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(p));  // round-trips a float
  return buf;
}

// The record as one JSON line. File names are bytes, not always UTF-8: invalid bytes print as
// U+FFFD so each line stays valid JSON.
std::string json_line(const Record& r, const float* p, const std::vector<std::string>& classes) {
  std::string s = "{\"file\": " + io::json_string_lossy(r.file);
  if (!r.error.empty()) return s + ", \"error\": " + io::json_string_lossy(r.error) + "}";
  if (r.no_face) return s + ", \"faces\": 0}";
  const std::size_t k = classes.size(), best = static_cast<std::size_t>(std::max_element(p, p + k) - p);
  s += ", \"box\": [" + std::to_string(r.box.x) + ", " + std::to_string(r.box.y) + ", " + std::to_string(r.box.w) +
       ", " + std::to_string(r.box.h) + "], \"label\": " + io::json_string_lossy(classes[best]) + ", \"probs\": {";
  for (std::size_t j = 0; j < k; ++j)
    s += (j ? ", " : "") + io::json_string_lossy(classes[j]) + ": " + probability_text(p[j]);
  return s + "}}";
}

std::string box_text(const data::PixelBox& b) {
  return std::to_string(b.x) + "," + std::to_string(b.y) + "," + std::to_string(b.w) + "," + std::to_string(b.h);
}

}  // namespace

int main(int argc, char** argv) {
  return cli::guarded_main([&] {
    train::ClassifierFlags model_flags;
    std::string logits_out, boxes_file, annotate, tta = "none";
    bool json = false, exif = true, faces = false, strict = false;
    std::string fit = "crop", crop;
    examples::FaceOptions face_options;
    cli::FlagParser flags("predict",
                          "Prints the class of each image (or of each face in it) and the probabilities of the "
                          "model's classes (the weights file says which channels, size, normalisation and class "
                          "names). IMAGE: a file, a folder (every image under it) or - (a list on standard input).");
    model_flags.add_to(flags);
    flags.add("json", &json,
              "one JSON object per line: {\"file\", \"box\": [x, y, w, h], \"label\", \"probs\": {class: p, ...}}, "
              "or {\"file\", \"error\"} for a file that failed, {\"file\", \"faces\": 0} for one without faces");
    flags.add("logits-out", &logits_out,
              "also write the normalised inputs and the logits to this safetensors file "
              "(for tools/compare_with_pytorch.py compare; one weights file, no TTA)");
    flags.add_choice("fit", &fit, {"crop", "stretch", "letterbox"},
                     "how an image of another aspect becomes the model's input: crop (the centre, nothing "
                     "distorted), stretch (all of it, distorted) or letterbox (all of it, padded with the training mean)");
    flags.add("crop", &crop, "classify only this box of each image: x,y,w,h in pixels of the upright image (e.g. a face)")
        .metavar("X,Y,W,H");
    flags.add("boxes", &boxes_file,
              "classify the boxes this file lists (- : standard input), one a line: FILE X Y W H in pixels of the "
              "upright image, several lines per file for several faces; its files are the images")
        .metavar("FILE|-");
    flags.add("faces", &faces, "find the faces in each image (OpenCV's cascade detector) and classify each");
    flags.add("cascade", &face_options.cascade,
              "--faces: the OpenCV cascade file (none: opencv-data's haarcascade_frontalface_default.xml)")
        .metavar("FILE");
    flags.add("min-face", &face_options.min_face, "--faces: the smallest face side searched, in pixels").range(8, 4096);
    flags.add_choice("tta", &tta, {"none", "flip", "tencrop"}, "test-time augmentation: probabilities averaged over views");
    flags.add("strict", &strict,
              "stop at the first image that cannot be read or classified, exit status 2 (else: an error record for "
              "it, the others go on, exit status 1 at the end)");
    flags.add("annotate", &annotate,
              "draw the boxes and labels on the photo: this PNG file for one image; for several, a folder of "
              "<n>-<name>.png")
        .metavar("PNG");
    flags.add("exif", &exif, "turn JPEGs upright by their EXIF orientation (--no-exif: use the pixels as stored)");
    flags.set_positional("IMAGE...", 0, 1 << 20);
    const std::vector<std::string> args = flags.parse(argc, argv);
    if (const std::string text = flags.requested_text(); !text.empty()) {  // --help, --version
      std::cout << text;
      return 0;
    }
    const bool boxes_given = flags.is_set("boxes");
    MOODNET_CHECK(static_cast<int>(flags.is_set("crop")) + static_cast<int>(boxes_given) + static_cast<int>(faces) <= 1,
                  "--crop, --boxes and --faces each say where the faces are: give one of them");
    MOODNET_CHECK(!boxes_given || args.empty(),
                  "--boxes lists the images with their boxes: give no IMAGE arguments beside it (got '", args[0], "')");
    MOODNET_CHECK(boxes_given || !args.empty(), "no images given (IMAGE...: files, folders or - for a list on stdin)");
    if (!flags.is_set("weights")) {
      model_flags.weights = shipped_weights(argv[0]);
      MOODNET_CHECK(!model_flags.weights.empty(), "--weights is required (", kShippedWeights,
                    ", the default, is not in a folder above the program nor in the current one)");
    }
    train::Ensemble models = model_flags.load_ensemble();
    const train::Tta tta_mode = train::parse_tta(tta);
    MOODNET_CHECK(logits_out.empty() || (models.size() == 1 && tta_mode == train::Tta::none),
                  "--logits-out writes one model's logits without TTA: give one weights file and no --tta");
    std::optional<examples::FaceDetector> detector;
    if (faces) detector.emplace(face_options);

    // The images, each with the boxes asked for (none: the whole image, or the faces found).
    std::vector<data::BoxedImage> inputs;
    if (boxes_given) {
      std::string text;
      if (boxes_file == "-") {
        text.assign(std::istreambuf_iterator<char>(std::cin), {});
      } else {
        std::ifstream in(boxes_file, std::ios::binary);
        MOODNET_CHECK(in.good(), "--boxes: cannot open '", boxes_file, "'");
        text.assign(std::istreambuf_iterator<char>(in), {});
      }
      inputs = data::parse_box_list(text, boxes_file == "-" ? "--boxes (stdin)" : boxes_file);
    } else {
      for (std::string& f : data::expand_image_inputs(args, std::cin)) inputs.push_back({std::move(f), {}});
    }
    if (flags.is_set("crop"))
      for (data::BoxedImage& in : inputs) in.boxes = {data::parse_pixel_box(crop, "--crop")};

    const data::ImageShape stored = models.stored_shape();
    stored.validate("model " + models.member(0).file);  // 1 or 3 channels: what an image file can give
    const data::Fit fit_rule = data::parse_fit(fit);
    std::vector<std::uint8_t> pad;  // letterbox bands: the first model's training mean (0 after its normalisation)
    for (int c = 0; c < stored.channels; ++c)
      pad.push_back(static_cast<std::uint8_t>(
          std::clamp(std::lround(255.0 * models.member(0).classifier.norm.mean_of(c)), 0L, 255L)));
    const std::vector<std::string>& classes = models.class_names();
    const std::size_t k = classes.size();
    const bool several_pictures = inputs.size() > 1;
    if (!annotate.empty() && several_pictures) fs::create_directories(annotate);

    // Images are read, cut and fitted into `pixels` a batch at a time; each batch is classified and
    // printed in input order. --strict and --logits-out read everything first (one batch).
    const std::int64_t batch_rows = strict || !logits_out.empty() ? INT64_MAX : 256;
    std::vector<Record> records;
    std::vector<std::uint8_t> pixels;
    std::int64_t rows = 0;
    bool any_error = false;
    const auto flush = [&] {
      std::vector<float> probs;
      if (rows > 0) probs = models.probabilities(pixels.data(), rows, tta_mode);
      if (!logits_out.empty() && rows > 0) {
        train::Classifier& c = models.member(0).classifier;
        Tensor<float> x({rows, stored.channels, stored.height, stored.width});
        data::normalize_images(pixels.data(), x.data(), rows, stored, c.norm);
        c.model.eval();
        const Tensor<float> fed = train::input_views(x, c.model.sample_shape(), train::Tta::none);
        const TensorView<const float> logits = c.model.forward(fed);
        io::save_safetensors(logits_out, {io::tensor_ref("inputs", TensorView<const float>(fed)),
                                          io::tensor_ref("logits", logits)},
                             {{"weights", models.member(0).file}});
      }
      std::vector<train::BoxLabel> drawn;
      for (std::size_t i = 0; i < records.size(); ++i) {
        const Record& r = records[i];
        const float* p = r.row >= 0 ? probs.data() + r.row * static_cast<std::int64_t>(k) : nullptr;
        if (json) {
          std::cout << json_line(r, p, classes) << "\n";
        } else if (!r.error.empty()) {
          std::cerr << "predict: " << r.file << ": " << r.error << "\n";
        } else if (r.no_face) {
          std::printf("%s: no face found\n", r.file.c_str());
        } else {
          const std::size_t best = static_cast<std::size_t>(std::max_element(p, p + k) - p);
          const std::string where = inputs[r.input].boxes.empty() && !faces ? "" : " [" + box_text(r.box) + "]";
          std::printf("%s%s: %s (%.1f%%)  ", r.file.c_str(), where.c_str(), classes[best].c_str(), 100.0 * p[best]);
          for (std::size_t j = 0; j < k; ++j) std::printf(" %s %.3f", classes[j].c_str(), static_cast<double>(p[j]));
          std::printf("\n");
        }
        if (annotate.empty() || !r.error.empty()) continue;
        if (p) {
          const std::size_t best = static_cast<std::size_t>(std::max_element(p, p + k) - p);
          drawn.push_back({r.box, classes[best] + " " + std::to_string(std::lround(100.0 * p[best])) + "%"});
        }
        if (i + 1 < records.size() && records[i + 1].input == r.input) continue;  // the image's last record: draw
        const std::string out = several_pictures ? (fs::path(annotate) / (std::to_string(r.input + 1) + "-" +
                                                                         fs::path(r.file).stem().string() + ".png"))
                                                       .string()
                                                 : annotate;
        const data::Image colour = data::decode_upright(data::read_file_bytes(r.file), r.file, 3, exif);
        train::write_png(out, train::annotate_photo(colour, drawn));
        drawn.clear();
      }
      std::cout.flush();
      std::fflush(stdout);
      records.clear(), pixels.clear(), rows = 0;
    };

    for (std::size_t i = 0; i < inputs.size(); ++i) {
      const std::string& file = inputs[i].file;
      std::vector<Record> mine;  // this image's records: all of them, or one error
      std::vector<std::uint8_t> fitted;
      try {
        const data::Image img = data::decode_upright(data::read_file_bytes(file), file, stored.channels, exif);
        std::vector<data::PixelBox> boxes = inputs[i].boxes;
        if (detector) {
          boxes = detector->detect(img);
          if (boxes.empty()) mine.push_back({i, file, {}, -1, {}, true});
        } else if (boxes.empty()) {
          boxes = {{0, 0, img.width, img.height}};
        }
        fitted.resize(boxes.size() * static_cast<std::size_t>(stored.numel()));
        for (std::size_t b = 0; b < boxes.size(); ++b) {
          const data::PixelBox& box = boxes[b];
          const bool whole = box.x == 0 && box.y == 0 && box.w == img.width && box.h == img.height;
          std::uint8_t* out = fitted.data() + b * static_cast<std::size_t>(stored.numel());
          if (whole) data::fit_image(img, stored, fit_rule, pad, out);
          else data::fit_image(data::crop_image(img, box, file), stored, fit_rule, pad, out);
          mine.push_back({i, file, box, rows + static_cast<std::int64_t>(b), {}, false});
        }
      } catch (const Error& e) {
        if (strict) throw;
        mine = {{i, file, {}, -1, e.what(), false}};
        fitted.clear();
        any_error = true;
      }
      pixels.insert(pixels.end(), fitted.begin(), fitted.end());
      rows += static_cast<std::int64_t>(fitted.size()) / stored.numel();
      records.insert(records.end(), mine.begin(), mine.end());
      if (rows >= batch_rows) flush();
    }
    flush();
    return any_error ? 1 : 0;
  });
}
