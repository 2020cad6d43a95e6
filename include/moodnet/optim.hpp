#pragma once
// optim/ and loss/: the arena optimizer (SGD, Adam, AdamW), learning-rate schedules, the weights'
// moving average, cross-entropy.
#include "moodnet/loss/cross_entropy.hpp"
#include "moodnet/optim/linear_tail.hpp"
#include "moodnet/optim/lr_schedule.hpp"
#include "moodnet/optim/optimizer.hpp"
#include "moodnet/optim/weight_average.hpp"
