#pragma once
// Where this project's programs look for FER-2013 when neither --data nor $MOODNET_DATA names it:
// ../shared/fer2013 (the data beside the clone, as on the machines this project is built on), then
// ./data/fer2013, both relative to the working directory. The library itself
// (data::resolve_data_dir) assumes no such layout: it tries data::kDefaultDataFolders unless given
// this list.
#include <string>
#include <vector>

namespace moodnet::cli {

inline std::vector<std::string> program_data_folders() { return {"../shared/fer2013", "data/fer2013"}; }

}  // namespace moodnet::cli
