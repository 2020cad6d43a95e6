// Evaluates a weights file on a split of any dataset: accuracy, per-class precision/recall/F1 and
// the confusion matrix, optionally with flip or ten-crop test-time augmentation. The images are read
// as the model was trained (channels, size, aspect rule, classes: the weights file's metadata).
//   evaluate --weights W --data ../shared/fer2013 --split private [--tta flip] [--out DIR [--worst 16]]
//   evaluate --weights W --data photos --split test        # photos/train/<class>, photos/test/<class>
//   evaluate --weights W --data mnist                      # IDX files: test (t10k-*) by default
//   evaluate --weights A,B --data ../shared/fer2013        # an ensemble: probabilities averaged
// With several weights files (train/ensemble.hpp) the report is the ensemble's, plus one line with
// each member's own accuracy; the data are read as the first file says (the members share classes
// and image shape; each normalises and crops as its own metadata says).
#include <moodnet/cli/data_folders.hpp>
#include <moodnet/cli/flags.hpp>
#include <moodnet/data/dataset_source.hpp>
#include <moodnet/io/atomic_file.hpp>
#include <moodnet/io/model_checkpoint.hpp>
#include <moodnet/train/classifier_flags.hpp>
#include <moodnet/train/ensemble.hpp>
#include <moodnet/train/evaluate.hpp>
#include <moodnet/train/metrics.hpp>
#include <moodnet/report.hpp>  // confusion-matrix PNG (train/plot.hpp)
#include <moodnet/train/tta_title.hpp>
#include <moodnet/train/worst_examples.hpp>

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <string>

using namespace moodnet;

int main(int argc, char** argv) {
  return cli::guarded_main([&] {
    train::ClassifierFlags model_flags;
    std::string data_dir, split, tta = "none", out;
    int worst = 16;
    cli::FlagParser flags("evaluate",
                          "Accuracy, per-class precision/recall/F1 and confusion matrix of a weights file (or of "
                          "an ensemble: --weights a,b,...).");
    model_flags.add_to(flags);
    flags.add("data", &data_dir,
              "dataset: an image folder (root/<class>/ or root/<split>/<class>/), a folder of IDX files, a FER-2013 "
              "folder or fer2013.csv (default: FER-2013 where the trainers look)")
        .non_empty();
    flags.add("split", &split,
              "split to evaluate: FER-2013 private (PrivateTest, default), public, test (= Public+Private) or train; "
              "other datasets their split names (default test, or all for a folder without splits)");
    flags.add_choice("tta", &tta, {"none", "flip", "tencrop"}, "test-time augmentation");
    flags.add("out", &out,
              "also write confusion.png, confusion.txt and worst_<split>.png (the images of highest loss, with true and "
              "predicted classes; worst_<split>.txt lists their files) into this folder");
    flags.add("worst", &worst, "images in worst_<split>.png (0 = no such file)").range(0, 64);
    flags.set_positional("", 0, 0);  // the dataset is --data: a stray path is an error, not ignored
    flags.parse(argc, argv);
    if (const std::string text = flags.requested_text(); !text.empty()) {  // --help, --version
      std::cout << text;
      return 0;
    }
    train::Ensemble models = model_flags.load_ensemble();
    const io::ModelMetadata& md = models.metadata();
    if (data_dir.empty() && data::resolve_data_dir({}, cli::program_data_folders()).is_sample)
      std::cerr << "notice: FER-2013 not found (--data, $" << data::kDataEnvVar
                << ", ../shared/fer2013, ./data/fer2013): evaluating on the small bundled sample\n";
    const data::DatasetSource source = data::find_dataset(data_dir, "--data", cli::program_data_folders());
    if (split.empty()) split = source.is_fer2013() ? "private" : source.has_split("test") ? "test" : source.splits.front();
    const data::Dataset d = data::load_split(source, split, train::read_options_for(md));
    if (d.class_names != md.class_names)  // the readers check this; a safeguard for the confusion matrix
      fail("the classes of ", source.path.string(), " {", data::detail::joined(d.class_names), "} are not the classes of ",
           models.member(0).file, " {", data::detail::joined(md.class_names), "}");
    const train::EnsembleEvalResult er = train::evaluate(models, d, train::parse_tta(tta));
    const train::EvalResult& r = er.ensemble;
    std::string what;  // "W (customnet w 32)" or "ensemble of 2: A (customnet w 32) + B (...)"
    for (std::size_t m = 0; m < models.size(); ++m) {
      const io::ModelMetadata& mm = models.member(m).classifier.metadata;
      what += (m ? " + " : "") + models.member(m).file + " (" + mm.model + " " + size_args_text(find_model(mm.model), mm.size) + ")";
    }
    if (models.size() > 1) what = "ensemble of " + std::to_string(models.size()) + ": " + what;
    std::printf("%s on %s of %s, %s (%lld images of %s, TTA %s)\n", what.c_str(), split.c_str(),
                source.path.string().c_str(), source.describe().c_str(), static_cast<long long>(d.size()),
                d.shape().str().c_str(), tta.c_str());
    if (models.size() > 1) {
      std::printf("members alone:");
      for (std::size_t m = 0; m < models.size(); ++m)
        std::printf("%s %s %.2f%%", m ? "," : "", models.member(m).file.c_str(),
                    100.0 * static_cast<double>(er.member_correct[m]) / static_cast<double>(d.size()));
      std::printf("\n");
    }
    std::printf("%s\nmean cross-entropy %.4f, macro F1 %.4f\n\n",
                train::accuracy_sentence(r.confusion.correct(), r.confusion.total()).c_str(), r.loss,
                r.confusion.macro_f1());
    std::printf("%s\nconfusion matrix (rows: true class, columns: predicted)\n%s", r.confusion.report().c_str(),
                r.confusion.table().c_str());
    if (!out.empty()) {
      std::filesystem::create_directories(out);
      const std::string title = train::tta_title(
          (models.size() > 1 ? "ensemble of " + std::to_string(models.size()) : md.model) + " on " + split, train::parse_tta(tta));
      train::write_confusion_png((std::filesystem::path(out) / "confusion.png").string(), r.confusion, title);
      io::write_file_atomic((std::filesystem::path(out) / "confusion.txt").string(),
                            title + "\n\n" + r.confusion.report() + "\n" + r.confusion.table());
      train::write_worst_examples((std::filesystem::path(out) / ("worst_" + split + ".png")).string(), d,
                                  r.probabilities, worst, title);
    }
    return 0;
  });
}
