// Evaluates a weights file on a FER-2013 split: accuracy, per-class precision/recall/F1 and the
// confusion matrix, optionally with flip or ten-crop test-time augmentation.
//   evaluate --weights W --data ../shared/fer2013 --split private [--tta flip] [--out DIR]
#include <moodnet/cli/flags.hpp>
#include <moodnet/data/fer2013.hpp>
#include <moodnet/io/atomic_file.hpp>
#include <moodnet/io/model_checkpoint.hpp>
#include <moodnet/train/classifier_flags.hpp>
#include <moodnet/train/evaluate.hpp>
#include <moodnet/train/metrics.hpp>
#include <moodnet/train/plot.hpp>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>

using namespace moodnet;

int main(int argc, char** argv) {
  return cli::guarded_main([&] {
    train::ClassifierFlags model_flags;
    std::string data_dir, split = "private", tta = "none", out;
    cli::FlagParser flags("evaluate", "Accuracy, per-class precision/recall/F1 and confusion matrix of a weights file.");
    model_flags.add_to(flags);
    flags.add("data", &data_dir, "FER-2013 folder or fer2013.csv (default: the trainers' lookup)");
    flags.add_choice("split", &split, {"private", "public", "test", "train"},
                     "PrivateTest, PublicTest, test (= Public+Private) or train");
    flags.add_choice("tta", &tta, {"none", "flip", "tencrop"}, "test-time augmentation");
    flags.add("out", &out, "also write confusion.png and confusion.txt into this folder");
    flags.parse(argc, argv);
    if (flags.help_requested()) {
      std::cout << flags.help();
      return 0;
    }
    train::Classifier classifier = model_flags.load();
    const std::string& weights = model_flags.weights;
    Model<float>& model = classifier.model;
    const io::ModelMetadata& md = classifier.metadata;
    const data::Normalization& norm = classifier.norm;
    const data::Split s = split == "private" ? data::Split::private_test
                          : split == "public" ? data::Split::public_test
                          : split == "test"   ? data::Split::test
                                              : data::Split::train;
    const data::Dataset d = data::load_fer2013(data::resolve_data_dir(data_dir), s);
    MOODNET_CHECK(d.class_names == md.class_names, "the dataset's classes do not match the classes of ", weights);
    const train::EvalResult r = train::evaluate(model, d, norm, train::parse_tta(tta));
    const std::string size = size_args_text(find_model(md.model), md.size);
    std::printf("%s (%s %s) on %s (%lld images, TTA %s)\n", weights.c_str(), md.model.c_str(), size.c_str(),
                split.c_str(), static_cast<long long>(d.size()), tta.c_str());
    std::printf("%s\nmean cross-entropy %.4f, macro F1 %.4f\n\n",
                train::accuracy_sentence(r.confusion.correct(), r.confusion.total()).c_str(), r.loss,
                r.confusion.macro_f1());
    std::printf("%s\nconfusion matrix (rows: true class, columns: predicted)\n%s", r.confusion.report().c_str(),
                r.confusion.table().c_str());
    if (!out.empty()) {
      std::filesystem::create_directories(out);
      train::write_confusion_png((std::filesystem::path(out) / "confusion.png").string(), r.confusion,
                                 md.model + " on " + split);
      io::write_file_atomic((std::filesystem::path(out) / "confusion.txt").string(),
                            r.confusion.report() + "\n" + r.confusion.table());
    }
    return 0;
  });
}
