#include "roundhouse/store/scalar_chunk.h"

#include <zstd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

namespace rh {

namespace {

void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7F) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

bool get_varint(const unsigned char*& p, const unsigned char* end, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (p >= end)
      return false;
    unsigned char b = *p++;
    v |= static_cast<uint64_t>(b & 0x7F) << shift;
    if (!(b & 0x80))
      return true;
  }
  return false;
}

uint64_t zigzag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
int64_t unzigzag(uint64_t v) {
  return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
}

template <class T>
void put_raw(std::string& out, const T& v) {
  out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

Status corrupt(const char* what) {
  return make_error(ErrorCode::corrupt, std::string("scalar chunk is corrupt: ") + what);
}

// Adds one point to a block summary being built.
void add_point(BlockSummary& b, int64_t step, double value, double time) {
  if (b.count == 0) {
    b.first_step = step;
    b.first_value = value;
    b.first_time = time;
    b.min_value = b.max_value = std::numeric_limits<double>::quiet_NaN();
    b.min_step = b.max_step = step;
    b.min_time = b.max_time = time;
  }
  b.last_step = step;
  b.last_value = value;
  b.last_time = time;
  ++b.count;
  if (!std::isnan(value)) {
    if (std::isnan(b.min_value) || value < b.min_value) {
      b.min_value = value;
      b.min_step = step;
      b.min_time = time;
    }
    if (std::isnan(b.max_value) || value > b.max_value) {
      b.max_value = value;
      b.max_step = step;
      b.max_time = time;
    }
  }
}

}  // namespace

EncodedChunk encode_chunk(const std::vector<int64_t>& steps, const std::vector<double>& values,
                          const std::vector<double>& times) {
  const size_t n = steps.size();
  EncodedChunk c;
  c.count = static_cast<int64_t>(n);
  std::string payload;
  payload.reserve(n * 18);
  int64_t prev = 0;
  for (size_t i = 0; i < n; ++i) {
    put_varint(payload, zigzag(steps[i] - prev));
    prev = steps[i];
  }
  payload.append(reinterpret_cast<const char*>(values.data()), n * sizeof(double));
  payload.append(reinterpret_cast<const char*>(times.data()), n * sizeof(double));

  c.data.push_back(1);
  bool compress = n > k_compress_min_points;
  std::string body;
  if (compress) {
    body.resize(ZSTD_compressBound(payload.size()));
    size_t z = ZSTD_compress(body.data(), body.size(), payload.data(), payload.size(), 1);
    if (ZSTD_isError(z) || z >= payload.size()) {
      compress = false;
    } else {
      body.resize(z);
    }
  }
  c.data.push_back(compress ? 1 : 0);
  put_raw(c.data, static_cast<uint32_t>(n));
  put_raw(c.data, static_cast<uint32_t>(payload.size()));
  c.data.append(compress ? body : payload);

  BlockSummary whole;
  BlockSummary block;
  c.summary.reserve((n / k_block_points + 1) * sizeof(BlockSummary));
  c.max_step_seen = n ? steps[0] : 0;
  for (size_t i = 0; i < n; ++i) {
    add_point(block, steps[i], values[i], times[i]);
    add_point(whole, steps[i], values[i], times[i]);
    c.max_step_seen = std::max(c.max_step_seen, steps[i]);
    if (block.count == static_cast<int64_t>(k_block_points) || i + 1 == n) {
      put_raw(c.summary, block);
      block = BlockSummary{};
    }
  }
  c.first_step = whole.first_step;
  c.last_step = whole.last_step;
  c.min_value = whole.min_value;
  c.max_value = whole.max_value;
  c.last_value = whole.last_value;
  c.last_time = whole.last_time;
  return c;
}

Status decode_chunk(std::string_view data, ScalarSeries& out) {
  if (data.size() < 10)
    return corrupt("shorter than its header");
  if (data[0] != 1)
    return corrupt("unknown version");
  bool compressed = data[1] & 1;
  uint32_t n = 0;
  uint32_t payload_size = 0;
  std::memcpy(&n, data.data() + 2, 4);
  std::memcpy(&payload_size, data.data() + 6, 4);
  std::string_view body = data.substr(10);
  std::string buf;
  if (compressed) {
    buf.resize(payload_size);
    size_t z = ZSTD_decompress(buf.data(), buf.size(), body.data(), body.size());
    if (ZSTD_isError(z) || z != payload_size)
      return corrupt("zstd payload does not decompress");
    body = buf;
  }
  if (body.size() != payload_size)
    return corrupt("payload size mismatch");
  const auto* p = reinterpret_cast<const unsigned char*>(body.data());
  const auto* end = p + body.size();
  size_t base = out.steps.size();
  out.steps.reserve(base + n);
  int64_t prev = 0;
  for (uint32_t i = 0; i < n; ++i) {
    uint64_t v;
    if (!get_varint(p, end, v))
      return corrupt("truncated steps");
    prev += unzigzag(v);
    out.steps.push_back(prev);
  }
  if (static_cast<size_t>(end - p) != size_t{n} * 16)
    return corrupt("value columns have the wrong size");
  out.values.resize(base + n);
  out.times.resize(base + n);
  std::memcpy(out.values.data() + base, p, size_t{n} * 8);
  std::memcpy(out.times.data() + base, p + size_t{n} * 8, size_t{n} * 8);
  return {};
}

Result<std::vector<BlockSummary>> decode_summary(std::string_view summary) {
  if (summary.size() % sizeof(BlockSummary) != 0) {
    return make_error(ErrorCode::corrupt, "scalar chunk summary has a partial record");
  }
  std::vector<BlockSummary> out(summary.size() / sizeof(BlockSummary));
  std::memcpy(out.data(), summary.data(), summary.size());
  return out;
}

std::vector<BlockSummary> points_as_blocks(const ScalarSeries& s) {
  std::vector<BlockSummary> out(s.steps.size());
  for (size_t i = 0; i < s.steps.size(); ++i)
    add_point(out[i], s.steps[i], s.values[i], s.times[i]);
  return out;
}

ScalarSeries downsample(const std::vector<BlockSummary>& blocks, int max_points) {
  ScalarSeries out;
  if (blocks.empty())
    return out;
  int64_t lo = blocks.front().first_step;
  int64_t hi = lo;
  for (const auto& b : blocks) {
    lo = std::min({lo, b.first_step, b.last_step});
    hi = std::max({hi, b.first_step, b.last_step});
  }
  const int64_t nb = std::max(1, (max_points - 2) / 2);
  const double span = static_cast<double>(hi - lo) + 1.0;
  struct Pick {
    int64_t step;
    double value;
    double time;
    size_t order;
  };
  std::vector<Pick> mins(static_cast<size_t>(nb),
                         Pick{0, std::numeric_limits<double>::quiet_NaN(), 0, 0});
  std::vector<Pick> maxs = mins;
  size_t order = 0;
  for (const auto& b : blocks) {
    ++order;
    if (std::isnan(b.min_value))
      continue;  // only NaN in this block
    auto idx = static_cast<size_t>(
        std::min<double>(static_cast<double>(nb - 1),
                         std::floor(static_cast<double>(b.first_step - lo) / span * nb)));
    if (std::isnan(mins[idx].value) || b.min_value < mins[idx].value) {
      mins[idx] = Pick{b.min_step, b.min_value, b.min_time, order};
    }
    if (std::isnan(maxs[idx].value) || b.max_value > maxs[idx].value) {
      maxs[idx] = Pick{b.max_step, b.max_value, b.max_time, order};
    }
  }
  std::vector<Pick> picks;
  picks.reserve(static_cast<size_t>(nb) * 2 + 2);
  picks.push_back(
      Pick{blocks.front().first_step, blocks.front().first_value, blocks.front().first_time, 0});
  for (size_t i = 0; i < mins.size(); ++i) {
    if (std::isnan(mins[i].value))
      continue;
    picks.push_back(mins[i]);
    if (maxs[i].step != mins[i].step || maxs[i].value != mins[i].value)
      picks.push_back(maxs[i]);
  }
  picks.push_back(
      Pick{blocks.back().last_step, blocks.back().last_value, blocks.back().last_time, order + 1});
  std::stable_sort(picks.begin(), picks.end(), [](const Pick& a, const Pick& b) {
    return a.step != b.step ? a.step < b.step : a.order < b.order;
  });
  for (size_t i = 0; i < picks.size(); ++i) {
    const auto& p = picks[i];
    if (i > 0 && p.step == picks[i - 1].step && p.time == picks[i - 1].time &&
        (p.value == picks[i - 1].value ||
         (std::isnan(p.value) && std::isnan(picks[i - 1].value)))) {
      continue;  // the same point picked twice (e.g. first and a minimum)
    }
    out.steps.push_back(p.step);
    out.values.push_back(p.value);
    out.times.push_back(p.time);
  }
  return out;
}

}  // namespace rh
