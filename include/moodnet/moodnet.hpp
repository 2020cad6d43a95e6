#pragma once
// Umbrella header: the library — tensors, kernels, layers, models, optimizers, data, files, and
// evaluation and training state (moodnet/train.hpp). Include a folder header (moodnet/core.hpp,
// moodnet/layers.hpp, ...) or single files instead to compile less. Folders depend only on the
// ones listed before them. The programs' parts are not here, so a user's translation unit does not
// compile a flag parser, a plotter or a private stb_image_write: moodnet/cli.hpp (flags, the
// trainers' loop and command lines) and moodnet/report.hpp (plots, PNG). tests/consumer checks it.
#include "moodnet/core.hpp"
#include "moodnet/kernels.hpp"
#include "moodnet/layers.hpp"
#include "moodnet/models.hpp"
#include "moodnet/optim.hpp"
#include "moodnet/data.hpp"
#include "moodnet/io.hpp"
#include "moodnet/train.hpp"
