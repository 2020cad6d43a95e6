// Exports a weights file to ONNX (io/onnx_export.hpp): opset 13, a dynamic or fixed batch, the
// class names and the input normalisation in the model's metadata_props. Optionally also writes
// reference data for checking another runtime against moodnet: the input tensor of some images of a
// dataset and the logits moodnet computes for them, as NumPy .npy files.
//   export_onnx --weights W --out model.onnx                           # input: normalised images
//   export_onnx --weights W --out model.onnx --normalize-in-graph     # input: pixel/255
//   export_onnx --weights W --out model.onnx --batch 8 --reference data/fer2013-sample
//       -> also model.input.npy [8, C, H, W] (what the file takes) and model.logits.npy [8, K]
#include <moodnet/cli/flags.hpp>
#include <moodnet/core/parallel.hpp>
#include <moodnet/data/dataset_source.hpp>
#include <moodnet/io/atomic_file.hpp>
#include <moodnet/io/onnx_export.hpp>
#include <moodnet/train/classifier_flags.hpp>  // load_classifier, read_options_for, input_views

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>

using namespace moodnet;

namespace {

// A float32 .npy file (format 1.0): magic, header length, a Python dict literal padded with spaces
// to a multiple of 64 bytes, then the values in C order.
void write_npy(const std::string& path, TensorView<const float> t) {
  std::string shape;
  for (int i = 0; i < t.rank(); ++i) shape += std::to_string(t.dim(i)) + (t.rank() == 1 || i + 1 < t.rank() ? "," : "");
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + shape + "), }";
  header.append(63 - (10 + header.size()) % 64, ' ');  // 10 bytes before it; ends with '\n'
  header += '\n';
  std::string bytes = "\x93NUMPY";
  bytes += '\x01', bytes += '\x00';
  bytes += static_cast<char>(header.size() & 0xFF), bytes += static_cast<char>(header.size() >> 8);
  bytes += header;
  bytes.append(reinterpret_cast<const char*>(t.data()), static_cast<std::size_t>(t.numel()) * sizeof(float));
  io::write_file_atomic(path, bytes);
}

}  // namespace

int main(int argc, char** argv) {
  return cli::guarded_main([&] {
    std::string weights, out, reference, split;
    int threads = 2;
    std::int64_t batch = 0, count = 8;
    bool in_graph = false;
    cli::FlagParser flags("export_onnx",
                          "Writes a weights file as an ONNX model (opset 13) with its class names and normalisation in "
                          "the metadata.");
    // Not train::ClassifierFlags: its --weights also takes an ensemble, which has no single graph.
    flags.add("weights", &weights, "weights file (.safetensors) written by a moodnet trainer");
    flags.add("threads", &threads, "OpenMP threads (for --reference)").range(1, 1024);
    flags.add("out", &out, "the .onnx file to write").non_empty();
    flags.add("batch", &batch, "images per run the file takes: 0 = any (a dynamic batch dimension \"N\")").range(0, 1 << 20);
    flags.add("normalize-in-graph", &in_graph,
              "the graph takes pixel/255 and applies the mean and std itself (default: it takes normalised images, "
              "as moodnet's network)");
    flags.add("reference", &reference,
              "also write <out>.input.npy and <out>.logits.npy: what the file takes for images of this dataset and "
              "the logits moodnet gives them");
    flags.add("reference-split", &split, "the split of --reference (default: FER-2013 private, else test or the first)");
    flags.add("reference-count", &count, "images for --reference, spread over the split (--batch, when set, wins)")
        .range(1, 4096);
    flags.set_positional("", 0, 0);
    flags.parse(argc, argv);
    if (const std::string text = flags.requested_text(); !text.empty()) {  // --help, --version
      std::cout << text;
      return 0;
    }
    MOODNET_CHECK(!out.empty(), "--out is required (the .onnx file to write)");
    set_num_threads(threads);
    train::Classifier classifier = train::load_classifier(weights);
    Model<float>& model = classifier.model;
    const io::ModelMetadata& md = classifier.metadata;
    // Reference images first (a bad --reference writes nothing): `count` of the split, evenly spaced
    // (class folders are read in class order), as the network sees them and as the file takes them.
    Tensor<float> x, x_unit;
    if (!reference.empty()) {
      const data::DatasetSource source = data::find_dataset(reference, "--reference");
      if (split.empty()) split = source.is_fer2013() ? "private" : source.has_split("test") ? "test" : source.splits.front();
      const data::Dataset d = data::load_split(source, split, train::read_options_for(md));
      MOODNET_CHECK(d.size() > 0, "--reference: split ", split, " of ", reference, " has no images");
      const std::int64_t n = std::min<std::int64_t>(batch ? batch : count, d.size());
      MOODNET_CHECK(batch == 0 || n == batch, "--reference: split ", split, " of ", reference, " has ", d.size(),
                    " images, fewer than --batch ", batch);
      std::vector<std::int64_t> picked;
      for (std::int64_t i = 0; i < n; ++i) picked.push_back(i * d.size() / n);
      const data::Dataset sub = d.subset(picked);
      const data::ImageShape shape = sub.shape();
      Tensor<float> normalized({n, shape.channels, shape.height, shape.width});
      Tensor<float> unit({n, shape.channels, shape.height, shape.width});
      data::normalize_images(sub.image(0), normalized.data(), n, shape, classifier.norm);
      data::normalize_images(sub.image(0), unit.data(), n, shape, data::Normalization(0.0f, 1.0f));  // pixel/255
      // Centre-cropped when the images are stored larger than the network's input (a crop-trained model).
      x = train::input_views(normalized, model.sample_shape(), train::Tta::none);
      x_unit = train::input_views(unit, model.sample_shape(), train::Tta::none);
    }

    io::OnnxExportOptions options;
    options.batch = batch, options.normalize_in_graph = in_graph;
    const std::string bytes = io::onnx_model_bytes(model, md, options);
    io::write_file_atomic(out, bytes);
    std::printf("wrote %s: %s %s, ONNX opset %lld, batch %s, %.2f MB\ninput \"input\": %s\noutput \"logits\": %zu "
                "classes (%s)\n",
                out.c_str(), md.model.c_str(), size_args_text(find_model(md.model), md.size).c_str(),
                static_cast<long long>(io::kOnnxOpset), batch ? std::to_string(batch).c_str() : "N (dynamic)",
                static_cast<double>(bytes.size()) / 1e6, io::onnx_input_description(in_graph).c_str(),
                md.class_names.size(), data::detail::joined(md.class_names).c_str());
    if (reference.empty()) return 0;

    model.eval();
    const TensorView<const float> logits = model.forward(x);
    std::string stem = out;
    if (stem.size() > 5 && stem.compare(stem.size() - 5, 5, ".onnx") == 0) stem.resize(stem.size() - 5);
    write_npy(stem + ".input.npy", in_graph ? x_unit : x);
    write_npy(stem + ".logits.npy", logits);
    std::printf("wrote %s.input.npy %s and %s.logits.npy %s: moodnet's logits for %lld images of split %s of %s\n",
                stem.c_str(), x.shape().str().c_str(), stem.c_str(), logits.shape().str().c_str(),
                static_cast<long long>(x.dim(0)), split.c_str(), reference.c_str());
    return 0;
  });
}
