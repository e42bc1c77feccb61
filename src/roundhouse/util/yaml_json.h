// A YAML value as JSON, read the way YAML 1.2's core schema reads plain
// scalars: quoted scalars stay strings; plain ones become null (`~`,
// `null`), booleans (`true`, `false`), integers and floats where they read
// as such, else strings. Keeps yaml-cpp out of the includer.
#pragma once

#include "roundhouse/util/json.h"

namespace YAML {
class Node;
}

namespace rh {

Json yaml_to_json(const YAML::Node& n);

}  // namespace rh
