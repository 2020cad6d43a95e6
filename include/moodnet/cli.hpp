#pragma once
// The programs' side, not part of moodnet/moodnet.hpp: the flag parser, --help and --version
// (cli/), the terminal, the training loop as the trainers run it (train/trainer.hpp: it draws a
// progress line, writes PNG curves and records its flags) with the trainers' command lines, and the
// classifier programs' shared flags. Includes moodnet/report.hpp (the plots).
#include "moodnet/report.hpp"
#include "moodnet/cli/flags.hpp"
#include "moodnet/cli/terminal.hpp"
#include "moodnet/cli/version.hpp"
#include "moodnet/train/classifier_flags.hpp"
#include "moodnet/train/progress.hpp"
#include "moodnet/train/train_cli.hpp"
#include "moodnet/train/trainer.hpp"
