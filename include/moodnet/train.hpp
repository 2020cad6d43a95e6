#pragma once
// train/, the library's part: evaluation (and its ensembles), metrics, confusion matrices, the
// history, the training state, the training data's splits, Ctrl-C handling. The training loop as the
// programs run it (its flags, progress line and PNG curves) is moodnet/cli.hpp; plots and PNG output
// are moodnet/report.hpp. Neither is in moodnet/moodnet.hpp.
#include "moodnet/train/confusion_matrix.hpp"
#include "moodnet/train/ensemble.hpp"
#include "moodnet/train/evaluate.hpp"
#include "moodnet/train/history.hpp"
#include "moodnet/train/metrics.hpp"
#include "moodnet/train/signal.hpp"
#include "moodnet/train/train_data.hpp"
#include "moodnet/train/train_state.hpp"
#include "moodnet/train/training_group.hpp"
