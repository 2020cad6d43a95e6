#pragma once
// FER-2013's seven classes in moodnet's index order: the alphabetical order of the class folder names
// (DESIGN.md contract 3). The one list: the FER-2013 readers, the weights-file metadata default and
// the tests all use it; the networks only take a class count.
#include <string>
#include <vector>

namespace moodnet::data {

inline const std::vector<std::string>& fer2013_class_names() {
  static const std::vector<std::string> names{"angry", "disgust", "fear", "happy", "neutral", "sad", "surprise"};
  return names;
}

}  // namespace moodnet::data
