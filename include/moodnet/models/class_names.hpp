#pragma once
// FER-2013's classes in index order: alphabetical folder order (DESIGN.md contract 3).
#include <array>
#include <string>

namespace moodnet {

inline constexpr int kNumMoods = 7;
inline const std::array<std::string, kNumMoods>& mood_names() {
  static const std::array<std::string, kNumMoods> names = {"angry", "disgust", "fear",    "happy",
                                                           "neutral", "sad",   "surprise"};
  return names;
}
// "angry,disgust,...": the class_names metadata value.
inline std::string mood_names_csv() {
  std::string s;
  for (const auto& n : mood_names()) s += (s.empty() ? "" : ",") + n;
  return s;
}

}  // namespace moodnet
