#pragma once
// Umbrella header: everything moodnet offers. Include the folder headers (moodnet/core.hpp, ...)
// or single files instead to compile less.
#include "moodnet/core.hpp"
