#pragma once
// predict --faces: OpenCV's Haar cascade face detector (Viola-Jones; objdetect's CascadeClassifier
// with the frontal-face cascade Debian ships in opencv-data). OpenCV is an optional dependency of
// the predict program only — the library's headers never include it. examples/CMakeLists.txt
// defines MOODNET_WITH_OPENCV when it finds OpenCV (and MOODNET_FACE_CASCADE, the cascade file it
// found); without it, FaceDetector's constructor throws "built without OpenCV".
//
// Detection runs on the upright gray image, histogram-equalised (the cascade was trained on
// equalised faces). Photos larger than kDetectSide on their longer side are first shrunk to it
// (area averaging): a face of 1/20 of the photo is still 50 px, and the pyramid stays short. Boxes
// come back in pixels of the upright image, clipped to it, sorted left to right then top to bottom.
#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include <moodnet/core/error.hpp>
#include <moodnet/data/convert.hpp>
#include <moodnet/data/image_decode.hpp>
#include <moodnet/data/photo.hpp>

#ifdef MOODNET_WITH_OPENCV
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/objdetect.hpp>
#endif

namespace moodnet::examples {

struct FaceOptions {
  std::string cascade;      // cascade XML file; empty = default_face_cascade()
  int min_face = 24;        // smallest face side searched, in pixels of the photo
  int neighbours = 5;       // detectMultiScale's minNeighbors: higher = fewer false faces
  double scale_step = 1.1;  // pyramid factor between scales
};

inline constexpr int kDetectSide = 1024;

// Where the frontal-face cascade is: the file CMake found, else Debian's and OpenCV's usual places;
// empty when none exists.
inline std::string default_face_cascade() {
  std::vector<std::string> candidates;
#ifdef MOODNET_FACE_CASCADE
  candidates.push_back(MOODNET_FACE_CASCADE);
#endif
  for (const char* dir : {"/usr/share/opencv4/haarcascades", "/usr/share/opencv/haarcascades",
                          "/usr/local/share/opencv4/haarcascades"})
    candidates.push_back(std::string(dir) + "/haarcascade_frontalface_default.xml");
  std::error_code ec;
  for (const std::string& c : candidates)
    if (!c.empty() && std::filesystem::is_regular_file(c, ec)) return c;
  return {};
}

inline constexpr bool kHaveOpenCv =
#ifdef MOODNET_WITH_OPENCV
    true;
#else
    false;
#endif

class FaceDetector {
 public:
  explicit FaceDetector(FaceOptions o) : o_(std::move(o)) {
#ifdef MOODNET_WITH_OPENCV
    if (o_.cascade.empty()) o_.cascade = default_face_cascade();
    MOODNET_CHECK(!o_.cascade.empty(),
                  "--faces: no face cascade found (Debian: apt-get install opencv-data, or pass --cascade FILE)");
    bool loaded = false;
    try {
      loaded = cascade_.load(o_.cascade);
    } catch (const cv::Exception& e) {
      fail("--cascade '", o_.cascade, "': OpenCV cannot read it: ", e.what());
    }
    MOODNET_CHECK(loaded && !cascade_.empty(), "--cascade '", o_.cascade,
                  "' is not an OpenCV cascade classifier file (e.g. haarcascade_frontalface_default.xml)");
#else
    fail("--faces: this predict was built without OpenCV (Debian: apt-get install libopencv-objdetect-dev "
         "opencv-data, or scripts/setup.sh; then configure again); give the faces' boxes with --crop or --boxes");
#endif
  }
  const std::string& cascade() const { return o_.cascade; }

  // The faces of an upright image (1 or 3 channels), in its pixels.
  std::vector<data::PixelBox> detect(const data::Image& img) {
    std::vector<data::PixelBox> boxes;
#ifdef MOODNET_WITH_OPENCV
    std::vector<std::uint8_t> gray(static_cast<std::size_t>(img.width) * img.height);
    data::convert_channels(img.pixels.data(), img.channels, gray.data(), 1, static_cast<std::int64_t>(gray.size()));
    cv::Mat m(img.height, img.width, CV_8UC1, gray.data());
    const int side = std::max(img.width, img.height);
    const double s = side > kDetectSide ? static_cast<double>(kDetectSide) / side : 1.0;
    cv::Mat small, equalised;
    if (s < 1) cv::resize(m, small, cv::Size(), s, s, cv::INTER_AREA);
    else small = m;
    cv::equalizeHist(small, equalised);
    const int min_side = std::max(8, static_cast<int>(o_.min_face * s));
    std::vector<cv::Rect> found;
    cascade_.detectMultiScale(equalised, found, o_.scale_step, o_.neighbours, 0, cv::Size(min_side, min_side));
    for (const cv::Rect& r : found) {
      const int x = std::clamp(static_cast<int>(r.x / s + 0.5), 0, img.width - 1);
      const int y = std::clamp(static_cast<int>(r.y / s + 0.5), 0, img.height - 1);
      const int w = std::clamp(static_cast<int>(r.width / s + 0.5), 1, img.width - x);
      const int h = std::clamp(static_cast<int>(r.height / s + 0.5), 1, img.height - y);
      boxes.push_back({x, y, w, h});
    }
    std::sort(boxes.begin(), boxes.end(),
              [](const data::PixelBox& a, const data::PixelBox& b) { return a.x != b.x ? a.x < b.x : a.y < b.y; });
#else
    (void)img;
#endif
    return boxes;
  }

 private:
  FaceOptions o_;
#ifdef MOODNET_WITH_OPENCV
  cv::CascadeClassifier cascade_;
#endif
};

}  // namespace moodnet::examples
