#pragma once
// data/: FER-2013 from image folders or fer2013.csv, augmentation, TTA and the batch loader.
#include "moodnet/data/augment.hpp"
#include "moodnet/data/dataset.hpp"
#include "moodnet/data/fer2013.hpp"
#include "moodnet/data/fer2013_csv.hpp"
#include "moodnet/data/image_decode.hpp"
#include "moodnet/data/image_folder.hpp"
#include "moodnet/data/loader.hpp"
#include "moodnet/data/normalize.hpp"
#include "moodnet/data/resize.hpp"
#include "moodnet/data/tta.hpp"
