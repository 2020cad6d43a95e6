#pragma once
// Pictures for people, not part of moodnet/moodnet.hpp: the canvas and its font, line charts, the
// confusion-matrix heatmap, the trainer's curves, the grid of worst-classified images, titles naming
// the TTA mode, boxes and moods drawn on photos, and PNG output
// (train/png.hpp compiles a private copy of stb_image_write into each translation unit that
// includes it). The programs include this; the library's own headers never do.
#include "moodnet/train/annotate.hpp"
#include "moodnet/train/canvas.hpp"
#include "moodnet/train/heatmap.hpp"
#include "moodnet/train/line_chart.hpp"
#include "moodnet/train/plot.hpp"
#include "moodnet/train/png.hpp"
#include "moodnet/train/tta_title.hpp"
#include "moodnet/train/worst_examples.hpp"
