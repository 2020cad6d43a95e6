// What predict is asked to classify (data/photo_inputs.hpp): the --boxes list (several boxes per
// file, names with spaces, comments, errors naming the line), and image paths — files, folders
// expanded to their image files in sorted order, "-" read from a stream.
#include "moodnet/data/photo_inputs.hpp"

#include <catch2/catch.hpp>

#include <sstream>
#include <string>
#include <vector>

#include "support.hpp"

using namespace moodnet;
using namespace moodnet::data;
using Catch::Contains;

namespace {
std::vector<int> inputs_box_values(const BoxedImage& b) {
  std::vector<int> v;
  for (const PixelBox& p : b.boxes) v.insert(v.end(), {p.x, p.y, p.w, p.h});
  return v;
}
}  // namespace

TEST_CASE("parse_box_list: FILE X Y W H lines, several per file, in order", "[data][photo_inputs]") {
  const std::string text =
      "# boxes from another tool\n"
      "team.jpg 410 120 380 380\n"
      "\n"
      "solo.png\t0 0 48 48\r\n"
      "  team.jpg   1210 140 360 360  \n"
      "my photo.jpg 1 2 3 4\n";
  const std::vector<BoxedImage> b = parse_box_list(text, "boxes.txt");
  REQUIRE(b.size() == 3);
  CHECK(b[0].file == "team.jpg");
  CHECK(inputs_box_values(b[0]) == std::vector<int>{410, 120, 380, 380, 1210, 140, 360, 360});
  CHECK(b[1].file == "solo.png");
  CHECK(inputs_box_values(b[1]) == std::vector<int>{0, 0, 48, 48});
  CHECK(b[2].file == "my photo.jpg");  // everything before the last four numbers
  CHECK(inputs_box_values(b[2]) == std::vector<int>{1, 2, 3, 4});
}

TEST_CASE("parse_box_list: bad lines name the list and the line", "[data][photo_inputs]") {
  CHECK_THROWS_WITH(parse_box_list("a.jpg 1 2 3 4\nb.jpg 1 2 3\n", "boxes.txt"),
                    "boxes.txt:2: 'b.jpg 1 2 3' is not FILE X Y W H (a file name, then the box in pixels)");
  CHECK_THROWS_WITH(parse_box_list("a.jpg 1 2 -3 4\n", "boxes.txt"), Contains("boxes.txt:1: '1,2,-3,4' is not X,Y,W,H"));
  CHECK_THROWS_WITH(parse_box_list("a.jpg 1 2 0 4\n", "b"), Contains("b:1: '1,2,0,4' has an empty box"));
  CHECK_THROWS_WITH(parse_box_list("# nothing\n\n", "empty.txt"), "empty.txt: no boxes (expected lines FILE X Y W H)");
}

TEST_CASE("image paths: files as given, folders expanded and sorted, '-' from a stream", "[data][photo_inputs]") {
  test::TempDir dir("photo_inputs");
  for (const char* f : {"b/2.png", "b/1.JPG", "a.pgm", "notes.txt", ".hidden.png", ".git/x.png", "b/c/3.jpeg"})
    test::write_bytes(dir / f, "x");
  CHECK(has_image_extension("x.JPG"));
  CHECK(has_image_extension("x.ppm"));
  CHECK_FALSE(has_image_extension("x.txt"));
  CHECK_FALSE(has_image_extension("jpg"));
  const std::string root = dir.path.string();
  const std::vector<std::string> all = image_files_under(dir.path);
  CHECK(all == std::vector<std::string>{root + "/a.pgm", root + "/b/1.JPG", root + "/b/2.png", root + "/b/c/3.jpeg"});

  std::istringstream list("one.jpg\r\n\n  \ntwo words.png\n");
  CHECK(read_path_list(list) == std::vector<std::string>{"one.jpg", "two words.png"});

  std::istringstream in("x.jpg\ny.jpg\n");
  const std::vector<std::string> got = expand_image_inputs({"first.jpg", root + "/b", "-", "missing.png"}, in);
  CHECK(got == std::vector<std::string>{"first.jpg", root + "/b/1.JPG", root + "/b/2.png", root + "/b/c/3.jpeg",
                                        "x.jpg", "y.jpg", "missing.png"});
  std::istringstream twice("a.jpg\n");
  CHECK_THROWS_WITH(expand_image_inputs({"-", "-"}, twice), Contains("given twice"));
  std::istringstream empty("");
  CHECK_THROWS_WITH(expand_image_inputs({"-"}, empty), Contains("no images to classify"));
  std::filesystem::create_directories(dir / "none");
  test::write_bytes(dir / "none/readme.txt", "x");
  std::istringstream unused("");
  CHECK_THROWS_WITH(expand_image_inputs({(dir / "none").string()}, unused),
                    "the folder '" + (dir / "none").string() + "' holds no image file (" + kImageFormats + ")");
}
