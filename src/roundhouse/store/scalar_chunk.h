// The storage format of scalar points: one chunk per (series, write), its
// points column by column, plus per-block summaries that let a chart read a
// million-point series without decoding it. Shared by every backend.
//
// Chunk data (little-endian):
//   u8  version = 1
//   u8  flags           bit 0: payload is zstd-compressed
//   u32 n               number of points
//   u32 payload_size    size of the uncompressed payload
//   payload:
//     n zigzag varints  steps: the first absolute, the rest deltas
//     n f64             values (NaN and +-Inf kept bit for bit)
//     n f64             wall times, seconds since the epoch
// Payloads of more than k_compress_min_points points are compressed (zstd level 1).
//
// Summary: ceil(n / k_block_points) BlockSummary records (104 bytes each, the
// struct's fields in order, little-endian), one per run of k_block_points points.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "roundhouse/model/task.h"

namespace rh {

inline constexpr size_t k_block_points = 256;
inline constexpr size_t k_compress_min_points = 64;

struct BlockSummary {
  int64_t first_step = 0;
  int64_t last_step = 0;
  int64_t count = 0;
  int64_t min_step = 0;  // the point with the smallest value (NaN ignored)
  double min_value = 0;
  double min_time = 0;
  int64_t max_step = 0;  // the point with the largest value (NaN ignored)
  double max_value = 0;
  double max_time = 0;
  double first_value = 0;
  double first_time = 0;
  double last_value = 0;
  double last_time = 0;
};
static_assert(sizeof(BlockSummary) == 104);

struct EncodedChunk {
  std::string data;
  std::string summary;
  int64_t first_step = 0;
  int64_t last_step = 0;
  int64_t count = 0;
  // Over the whole chunk (NaN ignored; NaN when every value is NaN).
  double min_value = 0;
  double max_value = 0;
  double last_value = 0;
  double last_time = 0;
  int64_t max_step_seen = 0;  // the largest step, for "latest" bookkeeping
};

// Encodes the points of one series; steps/values/times have equal length > 0.
EncodedChunk encode_chunk(const std::vector<int64_t>& steps, const std::vector<double>& values,
                          const std::vector<double>& times);

// Appends the chunk's points to out; corrupt when the data does not parse.
Status decode_chunk(std::string_view data, ScalarSeries& out);

Result<std::vector<BlockSummary>> decode_summary(std::string_view summary);

// At most about max_points points: per bucket of the step range, the points
// with the smallest and largest value, plus the first and last point, in step
// order. `blocks` are in logging order.
ScalarSeries downsample(const std::vector<BlockSummary>& blocks, int max_points);

// Raw points as one-point blocks, so filtered reads share downsample().
std::vector<BlockSummary> points_as_blocks(const ScalarSeries& s);

}  // namespace rh
