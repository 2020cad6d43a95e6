#pragma once
// io/: atomic files, JSON, safetensors, model weights files, the training-state file and the run
// folder's lock.
#include "moodnet/io/atomic_file.hpp"
#include "moodnet/io/json.hpp"
#include "moodnet/io/model_checkpoint.hpp"
#include "moodnet/io/model_metadata.hpp"
#include "moodnet/io/run_lock.hpp"
#include "moodnet/io/safetensors.hpp"
#include "moodnet/io/training_state.hpp"
