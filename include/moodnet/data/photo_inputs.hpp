#pragma once
// What predict is asked to classify: image paths from the command line and a list of boxes.
//
//   paths      a file as it is; a folder: every image file under it (by extension, any depth,
//              names starting with '.' skipped), sorted; "-": one path per line on standard input
//              (blank lines skipped, a trailing '\r' dropped).
//   box list   (--boxes FILE|-) one box a line, "FILE X Y W H" in pixels of the upright image;
//              a file may have several lines (one per face); '#' starts a comment line. The file
//              name is everything before the last four numbers, so it may hold spaces:
//                # faces found by another tool
//                photos/team.jpg 410 120 380 380
//                photos/team.jpg 1210 140 360 360
//                photos/my photo.png 0 0 48 48
//              Files keep the order of their first line, boxes the order of their lines.
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <istream>
#include <string>
#include <string_view>
#include <vector>

#include "moodnet/core/error.hpp"
#include "moodnet/data/photo.hpp"

namespace moodnet::data {

struct BoxedImage {
  std::string file;
  std::vector<PixelBox> boxes;
};

// Parses a box list (above); `source` names it in errors ("boxes.txt:3: ...").
inline std::vector<BoxedImage> parse_box_list(std::string_view text, const std::string& source) {
  std::vector<BoxedImage> out;
  std::size_t line_no = 0;
  for (std::size_t at = 0; at < text.size();) {
    const std::size_t end = std::min(text.find('\n', at), text.size());
    const std::string line(text.substr(at, end - at));
    at = end + 1, ++line_no;
    std::vector<std::size_t> starts;  // where each whitespace-separated field begins
    std::vector<std::string> fields;
    for (std::size_t i = 0; i < line.size();) {
      if (std::isspace(static_cast<unsigned char>(line[i]))) {
        ++i;
        continue;
      }
      std::size_t j = i;
      while (j < line.size() && !std::isspace(static_cast<unsigned char>(line[j]))) ++j;
      starts.push_back(i), fields.push_back(line.substr(i, j - i));
      i = j;
    }
    if (fields.empty() || fields[0][0] == '#') continue;
    const std::string where = source + ":" + std::to_string(line_no);
    MOODNET_CHECK(fields.size() >= 5, where, ": '", line, "' is not FILE X Y W H (a file name, then the box in pixels)");
    const std::size_t n = fields.size();
    std::string file = line.substr(starts[0], starts[n - 4] - starts[0]);
    while (std::isspace(static_cast<unsigned char>(file.back()))) file.pop_back();
    const PixelBox box = parse_pixel_box(fields[n - 4] + "," + fields[n - 3] + "," + fields[n - 2] + "," + fields[n - 1], where);
    const auto it = std::find_if(out.begin(), out.end(), [&](const BoxedImage& b) { return b.file == file; });
    if (it == out.end()) out.push_back({file, {box}});
    else it->boxes.push_back(box);
  }
  MOODNET_CHECK(!out.empty(), source, ": no boxes (expected lines FILE X Y W H)");
  return out;
}

// The extensions of the formats decode_image reads (kImageFormats), lower case.
inline bool has_image_extension(const std::filesystem::path& p) {
  std::string e = p.extension().string();
  std::transform(e.begin(), e.end(), e.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  for (const char* x : {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".psd", ".tga", ".pic", ".pgm", ".ppm", ".pnm",
                        ".pbm", ".hdr"})
    if (e == x) return true;
  return false;
}

// Every image file under `dir` (any depth, by has_image_extension; names starting with '.' and
// their folders skipped), sorted by path. Throws moodnet::Error naming the folder when it cannot
// be read or holds no image file.
inline std::vector<std::string> image_files_under(const std::filesystem::path& dir) {
  namespace fs = std::filesystem;
  std::vector<std::string> files;
  std::error_code ec;
  fs::recursive_directory_iterator it(dir, fs::directory_options::none, ec), end;
  MOODNET_CHECK(!ec, "cannot read the folder '", dir.string(), "': ", ec.message());
  for (; it != end; it.increment(ec)) {
    MOODNET_CHECK(!ec, "cannot read the folder '", dir.string(), "': ", ec.message());
    const std::string name = it->path().filename().string();
    if (!name.empty() && name[0] == '.') {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    if (it->is_regular_file(ec) && has_image_extension(it->path())) files.push_back(it->path().string());
  }
  std::sort(files.begin(), files.end());
  MOODNET_CHECK(!files.empty(), "the folder '", dir.string(), "' holds no image file (", kImageFormats, ")");
  return files;
}

// One path per line of `in`: blank lines skipped, a trailing '\r' dropped.
inline std::vector<std::string> read_path_list(std::istream& in) {
  std::vector<std::string> paths;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") != std::string::npos) paths.push_back(line);
  }
  return paths;
}

// The image paths the arguments name (above): files as given, folders expanded, "-" read from
// `in` (at most once). A path that does not exist is kept: reading it fails later, per file.
inline std::vector<std::string> expand_image_inputs(const std::vector<std::string>& args, std::istream& in) {
  std::vector<std::string> out;
  bool read_stdin = false;
  for (const std::string& a : args) {
    std::error_code ec;
    if (a == "-") {
      MOODNET_CHECK(!read_stdin, "'-' (a list of images on standard input) given twice");
      read_stdin = true;
      const std::vector<std::string> listed = read_path_list(in);
      out.insert(out.end(), listed.begin(), listed.end());
    } else if (std::filesystem::is_directory(a, ec)) {
      const std::vector<std::string> found = image_files_under(a);
      out.insert(out.end(), found.begin(), found.end());
    } else {
      out.push_back(a);
    }
  }
  MOODNET_CHECK(!out.empty(), "no images to classify (the list on standard input was empty)");
  return out;
}

}  // namespace moodnet::data
