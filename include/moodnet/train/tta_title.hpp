#pragma once
// Every plot whose numbers come from an evaluation names the test-time augmentation they were made
// with in its title (confusion matrices, the worst-examples grid): "PrivateTest (customnet w 32),
// TTA flip". A reader comparing two plots would otherwise take a flip-TTA 68.82% and a plain 68.46%
// for two models' difference. The validation plots say "TTA none" (validation never uses TTA).
#include <string>

#include "moodnet/train/evaluate.hpp"

namespace moodnet::train {

// The --tta spelling of a mode: none, flip, tencrop (parse_tta's inverse).
inline const char* tta_name(Tta t) { return t == Tta::none ? "none" : t == Tta::flip ? "flip" : "tencrop"; }

// "<title>, TTA <mode>".
inline std::string tta_title(const std::string& title, Tta t) { return title + ", TTA " + tta_name(t); }

}  // namespace moodnet::train
