#pragma once
// models/: Model (parameter arena + network), the registered networks and their registry.
#include "moodnet/models/customnet.hpp"
#include "moodnet/models/mobilenet_v1.hpp"
#include "moodnet/models/model.hpp"
#include "moodnet/models/model_spec.hpp"
#include "moodnet/models/registry.hpp"
