#pragma once
// Umbrella header: everything moodnet offers. Include a folder header (moodnet/core.hpp,
// moodnet/layers.hpp, ...) or single files instead to compile less. Folders depend only on the
// ones listed before them.
#include "moodnet/core.hpp"
#include "moodnet/kernels.hpp"
#include "moodnet/layers.hpp"
#include "moodnet/models.hpp"
#include "moodnet/optim.hpp"
#include "moodnet/data.hpp"
#include "moodnet/io.hpp"
#include "moodnet/train.hpp"
