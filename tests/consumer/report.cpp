// The plotting header from the installed tree, on its own: a two-point line chart rendered and
// encoded as PNG bytes (checked by the PNG signature). Exits non-zero on any surprise.
#include <moodnet/report.hpp>

#include <cstdio>
#include <string>

int main() {
  moodnet::train::LineChart chart{"loss", "epoch", "loss", {{"train", {1, 2}, {1.0, 0.5}, {}}}};
  const std::string png = moodnet::train::encode_png(moodnet::train::render_line_chart(chart));
  if (png.size() < 8 || png.compare(0, 8, "\x89PNG\r\n\x1a\n") != 0) return 1;
  std::printf("moodnet/report.hpp consumer OK (%zu PNG bytes)\n", png.size());
  return 0;
}
