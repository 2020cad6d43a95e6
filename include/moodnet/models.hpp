#pragma once
// models/: Model (parameter arena + network), MobileNetV1-48 and CustomNet-48 builders.
#include "moodnet/models/class_names.hpp"
#include "moodnet/models/customnet.hpp"
#include "moodnet/models/mobilenet_v1.hpp"
#include "moodnet/models/model.hpp"
