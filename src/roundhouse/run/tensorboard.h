// Reading TensorBoard event files as they are written: TFRecord framing
//   u64 length, u32 masked_crc32c(length), data[length], u32 masked_crc32c(data)
// and, in each record, a tensorflow.Event protobuf. Only scalars are taken:
// Summary.Value.simple_value (TF1, PyTorch, tensorboardX) and rank-0 float or
// double tensors of the "scalars" plugin (TF2). A record cut short at the
// end of the file is left for the next read, never misread.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "roundhouse/util/error.h"

namespace rh {

uint32_t crc32c(const void* data, size_t n);
uint32_t masked_crc32c(const void* data, size_t n);

struct TbScalar {
  std::string tag;
  int64_t step = 0;
  double value = 0;
  double wall_time = 0;
};

// Decodes one Event message; appends its scalars to out. corrupt on bad protobuf.
Status parse_tb_event(std::string_view event, std::vector<TbScalar>& out);

// Follows one event file: each poll() reads the records completed since the last.
class TbFileReader {
 public:
  explicit TbFileReader(std::string path) : m_path(std::move(path)) {}
  // Appends new scalars. A CRC mismatch on a complete record is `corrupt`
  // (the file is then no longer followed); a partial record is waited for.
  Status poll(std::vector<TbScalar>& out);
  uint64_t records() const { return m_records; }
  uint64_t offset() const { return m_offset; }

 private:
  std::string m_path;
  uint64_t m_offset = 0;
  uint64_t m_records = 0;
  bool m_failed = false;
  // Tags whose values are TF2 scalars (metadata is sent with the first value only).
  std::vector<std::string> m_scalar_tags;
};

// Splits a tag the way ClearML does: "loss/train" -> ("loss", "train");
// a tag without '/' is its own title and series.
std::pair<std::string, std::string> split_tb_tag(const std::string& tag);

}  // namespace rh
