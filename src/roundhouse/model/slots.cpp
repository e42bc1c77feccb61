#include "roundhouse/model/slots.h"

#include "roundhouse/util/strings.h"

namespace rh {

namespace {

std::vector<std::string> devices(std::string_view gpus) {
  std::vector<std::string> out;
  if (trim(gpus) == "none")
    return out;
  for (const auto& d : split(gpus, ',')) {
    std::string_view t = trim(d);
    if (!t.empty())
      out.emplace_back(t);
  }
  return out;
}

}  // namespace

int64_t gpu_count(std::string_view gpus) {
  return int64_t(devices(gpus).size());
}

int64_t offered_slots(std::string_view gpus) {
  int64_t n = gpu_count(gpus);
  return n > 0 ? n : 1;
}

std::string devices_for(std::string_view gpus, int64_t slots) {
  std::vector<std::string> d = devices(gpus);
  if (slots >= 0 && size_t(slots) < d.size())
    d.resize(size_t(slots));
  return join(d, ",");
}

}  // namespace rh
