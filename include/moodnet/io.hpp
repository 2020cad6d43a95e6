#pragma once
// io/: atomic files, JSON, safetensors, model weights files and the training-state file.
#include "moodnet/io/atomic_file.hpp"
#include "moodnet/io/json.hpp"
#include "moodnet/io/model_checkpoint.hpp"
#include "moodnet/io/model_metadata.hpp"
#include "moodnet/io/safetensors.hpp"
#include "moodnet/io/training_state.hpp"
