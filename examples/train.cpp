// Trains any registered model on any image dataset: an image folder (root/<class>/ or
// root/<split>/<class>/, colour or gray, any size), MNIST-style IDX files (plain or gzipped) or
// FER-2013. `train --help` lists the flags, `train --model NAME --help` that model's size flags.
//   train --model customnet --width 32 --data photos --input-size 64 --crop 56 --epochs 30
//   train --model mobilenet --width 0.5 --data mnist --no-hflip --class-names 0,1,2,3,4,5,6,7,8,9
// Its code is moodnet::train::train_any_main of <moodnet/train/train_cli.hpp> (examples/support/train_cli.cpp).
#include "support/train_cli.hpp"

int main(int argc, char** argv) { return moodnet::examples::train_any_main(argc, argv); }
