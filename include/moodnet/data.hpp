#pragma once
// data/: labelled image datasets held as uint8 [N, C, H, W] — image folders, FER-2013 (folders or
// fer2013.csv), IDX (MNIST style) — conversion and resizing, per-channel normalisation,
// augmentation, TTA and the batch loader. See docs/data.md.
#include "moodnet/data/augment.hpp"
#include "moodnet/data/convert.hpp"
#include "moodnet/data/dataset.hpp"
#include "moodnet/data/dataset_source.hpp"
#include "moodnet/data/fer2013.hpp"
#include "moodnet/data/fer2013_classes.hpp"
#include "moodnet/data/fer2013_csv.hpp"
#include "moodnet/data/idx.hpp"
#include "moodnet/data/image_decode.hpp"
#include "moodnet/data/image_folder.hpp"
#include "moodnet/data/image_shape.hpp"
#include "moodnet/data/loader.hpp"
#include "moodnet/data/memory.hpp"
#include "moodnet/data/normalize.hpp"
#include "moodnet/data/resize.hpp"
#include "moodnet/data/tta.hpp"
