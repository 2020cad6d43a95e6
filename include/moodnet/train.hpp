#pragma once
// train/ and cli/: the training loop, evaluation, metrics, progress, history, plots, flags.
#include "moodnet/cli/flags.hpp"
#include "moodnet/train/classifier_flags.hpp"
#include "moodnet/train/confusion_matrix.hpp"
#include "moodnet/train/evaluate.hpp"
#include "moodnet/train/history.hpp"
#include "moodnet/train/metrics.hpp"
#include "moodnet/train/plot.hpp"
#include "moodnet/train/progress.hpp"
#include "moodnet/train/signal.hpp"
#include "moodnet/train/train_cli.hpp"
#include "moodnet/train/train_state.hpp"
#include "moodnet/train/trainer.hpp"
