// Trains CustomNet-48 on FER-2013. `train_customnet --help` lists the flags.
// Its code is moodnet::train::train_main of <moodnet/train/train_cli.hpp> (examples/support/train_cli.cpp).
#include "support/train_cli.hpp"

int main(int argc, char** argv) { return moodnet::examples::train_main(argc, argv, "customnet"); }
