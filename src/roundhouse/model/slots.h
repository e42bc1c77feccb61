// Slots: what a task asks of an agent's accelerators, and what an agent offers.
// An agent offers one slot per GPU it serves (its `--gpus` list, else the
// CUDA_VISIBLE_DEVICES it was started with); an agent with no GPUs offers one
// CPU slot, as Determined's CPU-only agents do. A task whose runtime asks for
// `slots` N is taken only by an agent offering at least N; N = 0 (and tasks
// that ask nothing) fit any agent.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace rh {

// The GPUs in a comma-separated device list ("0,1" -> 2); empty or "none" -> 0.
int64_t gpu_count(std::string_view gpus);

// What an agent serving these GPUs offers: the GPU count, or 1 without GPUs.
int64_t offered_slots(std::string_view gpus);

// CUDA_VISIBLE_DEVICES for a task asking `slots` of an agent serving `gpus`:
// the first `slots` devices ("" for 0); the whole list when slots < 0 (the
// task asked nothing).
std::string devices_for(std::string_view gpus, int64_t slots);

}  // namespace rh
