// Classifies image files with a trained weights file:
//   predict --weights models/customnet_w32.safetensors face1.jpg face2.png ...
//   predict --weights W --json *.jpg     # one JSON object per line
//   predict --weights W --logits-out x.safetensors *.jpg   # inputs + logits for tools/compare_with_pytorch.py
//   predict --weights W --crop 410,120,380,380 photo.jpg   # the face's box (x,y,w,h), in pixels
//   predict --weights W --fit letterbox strip.png           # whole image, aspect kept, padded
// Any size, colour or gray: everything about the model's input comes from the weights file's
// metadata — images are converted to the model's channels (gray by BT.601 luma, or RGB), fitted to
// its stored size, centre-cropped to its input when it was trained on crops, and normalised per
// channel; the labels are its class names. Photos are first turned upright by their EXIF orientation
// (phone JPEGs), cut to --crop if given, then fitted by --fit (data/photo.hpp): crop (default: the
// largest centred window with the model's aspect, nothing distorted), stretch (the whole image,
// distorted when the aspects differ) or letterbox (the whole image, aspect kept, the bands filled
// with the training mean).
#include <moodnet/data/image_folder.hpp>
#include <moodnet/data/photo.hpp>
#include <moodnet/cli/flags.hpp>
#include <moodnet/io/json.hpp>
#include <moodnet/io/model_checkpoint.hpp>
#include <moodnet/io/safetensors.hpp>
#include <moodnet/train/classifier_flags.hpp>
#include <moodnet/train/evaluate.hpp>

#include <algorithm>
#include <cmath>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

using namespace moodnet;

int main(int argc, char** argv) {
  return cli::guarded_main([&] {
    train::ClassifierFlags model_flags;
    std::string logits_out;
    bool json = false, exif = true;
    std::string fit = "crop", crop;
    cli::FlagParser flags("predict",
                          "Prints the class of each image and the probabilities of the model's classes (the weights "
                          "file says which channels, size, normalisation and class names).");
    model_flags.add_to(flags);
    flags.add("json", &json, "one JSON object per line: {\"file\", \"label\", \"probs\": [one number per class]}");
    flags.add("logits-out", &logits_out,
              "also write the normalised inputs and the logits to this safetensors file "
              "(for tools/compare_with_pytorch.py compare)");
    flags.add_choice("fit", &fit, {"crop", "stretch", "letterbox"},
                     "how an image of another aspect becomes the model's input: crop (the centre, nothing "
                     "distorted), stretch (all of it, distorted) or letterbox (all of it, padded with the training mean)");
    flags.add("crop", &crop, "classify only this box of each image: x,y,w,h in pixels of the upright image (e.g. a face)")
        .metavar("X,Y,W,H");
    flags.add("exif", &exif, "turn JPEGs upright by their EXIF orientation (--no-exif: use the pixels as stored)");
    flags.set_positional("IMAGE...", 1, 1 << 20);
    const std::vector<std::string> files = flags.parse(argc, argv);
    if (const std::string text = flags.requested_text(); !text.empty()) {  // --help, --version
      std::cout << text;
      return 0;
    }
    train::Classifier classifier = model_flags.load();
    const std::string& weights = model_flags.weights;
    Model<float>& model = classifier.model;
    const io::ModelMetadata& md = classifier.metadata;
    const data::Normalization& norm = classifier.norm;

    // Decode everything first: a bad file stops the run before any output, naming the file.
    const data::ImageShape stored = md.stored_shape();
    stored.validate("model " + weights);  // 1 or 3 channels: what an image file can give
    const std::int64_t n = static_cast<std::int64_t>(files.size());
    data::PhotoOptions photo;
    photo.fit = data::parse_fit(fit);
    photo.use_exif = exif;
    if (flags.is_set("crop")) photo.box = data::parse_pixel_box(crop, "--crop");
    photo.pad.clear();  // letterbox bands: the training mean, so they normalise to 0
    for (int c = 0; c < stored.channels; ++c)
      photo.pad.push_back(static_cast<std::uint8_t>(std::clamp(std::lround(255.0 * norm.mean_of(c)), 0L, 255L)));
    Tensor<std::uint8_t> pixels({n, stored.channels, stored.height, stored.width});
    for (std::int64_t i = 0; i < n; ++i)
      data::load_photo(files[static_cast<std::size_t>(i)], files[static_cast<std::size_t>(i)], stored, photo,
                       pixels.data() + i * stored.numel());
    Tensor<float> x({n, stored.channels, stored.height, stored.width});
    data::normalize_images(pixels.data(), x.data(), n, stored, norm);
    const std::vector<float> probs = train::predict_probabilities(model, x, train::Tta::none);
    if (!logits_out.empty()) {
      model.eval();
      const Tensor<float> inputs = train::input_views(x, model.sample_shape(), train::Tta::none);  // as fed
      const TensorView<const float> logits = model.forward(inputs);
      io::save_safetensors(logits_out, {io::tensor_ref("inputs", TensorView<const float>(inputs)),
                                        io::tensor_ref("logits", logits)},
                           {{"weights", weights}});
    }
    const std::size_t k = md.class_names.size();
    for (std::size_t i = 0; i < files.size(); ++i) {
      const float* p = probs.data() + i * k;
      const std::size_t best = static_cast<std::size_t>(std::max_element(p, p + k) - p);
      if (json) {
        // File names are bytes, not always UTF-8: invalid bytes print as U+FFFD so each line stays
        // valid JSON; a probability that is not finite prints as null (JSON has no NaN).
        std::string line = "{\"file\": " + io::json_string_lossy(files[i]) +
                           ", \"label\": " + io::json_string_lossy(md.class_names[best]) + ", \"probs\": [";
        for (std::size_t j = 0; j < k; ++j) {
          char buf[32];
          std::snprintf(buf, sizeof buf, "%.9g", static_cast<double>(p[j]));  // round-trips a float
          line += (j ? ", " : "") + (std::isfinite(p[j]) ? std::string(buf) : std::string("null"));
        }
        std::cout << line << "]}\n";
      } else {
        std::printf("%s: %s (%.1f%%)  ", files[i].c_str(), md.class_names[best].c_str(), 100.0 * p[best]);
        for (std::size_t j = 0; j < k; ++j) std::printf(" %s %.3f", md.class_names[j].c_str(), static_cast<double>(p[j]));
        std::printf("\n");
      }
    }
    return 0;
  });
}
