// Trains ResNet-48 on FER-2013. `train_resnet --help` lists the flags.
#include <moodnet/train/train_cli.hpp>

int main(int argc, char** argv) { return moodnet::train::train_main(argc, argv, "resnet"); }
