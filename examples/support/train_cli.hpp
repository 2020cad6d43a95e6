#pragma once
// The trainer programs' entry points: moodnet::train::train_main and train_any_main of
// <moodnet/train/train_cli.hpp>, compiled once in train_cli.cpp for the five trainer programs (the
// trainer is the costly part of each to compile; the programs differ only in their default model).
#include <string>

namespace moodnet::examples {

// FER-2013 trainer for `model` ("customnet", "mobilenet", "resnet", "resnext"): train_cli.hpp's train_main.
int train_main(int argc, char** argv, const std::string& model);

// The general trainer (any registered model, any image dataset): train_cli.hpp's train_any_main.
int train_any_main(int argc, char** argv);

}  // namespace moodnet::examples
