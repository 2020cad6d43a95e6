#include "train_cli.hpp"

#include <moodnet/train/train_cli.hpp>

namespace moodnet::examples {

int train_main(int argc, char** argv, const std::string& model) { return train::train_main(argc, argv, model); }

int train_any_main(int argc, char** argv) { return train::train_any_main(argc, argv); }

}  // namespace moodnet::examples
