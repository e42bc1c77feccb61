#include "roundhouse/run/tensorboard.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace rh {

namespace {

std::array<uint32_t, 256> make_crc_table() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k)
      c = (c & 1) ? (c >> 1) ^ 0x82F63B78u : c >> 1;  // Castagnoli
    t[i] = c;
  }
  return t;
}

// Minimal protobuf wire-format reader: enough for Event/Summary/TensorProto.
class Wire {
 public:
  explicit Wire(std::string_view d)
      : m_p(reinterpret_cast<const uint8_t*>(d.data())), m_end(m_p + d.size()) {}
  bool done() const { return m_p >= m_end; }
  bool varint(uint64_t& v) {
    v = 0;
    for (int shift = 0; shift < 64 && m_p < m_end; shift += 7) {
      uint8_t b = *m_p++;
      v |= uint64_t(b & 0x7F) << shift;
      if (!(b & 0x80))
        return true;
    }
    return false;
  }
  bool fixed64(uint64_t& v) {
    if (m_end - m_p < 8)
      return false;
    std::memcpy(&v, m_p, 8);
    m_p += 8;
    return true;
  }
  bool fixed32(uint32_t& v) {
    if (m_end - m_p < 4)
      return false;
    std::memcpy(&v, m_p, 4);
    m_p += 4;
    return true;
  }
  bool bytes(std::string_view& out) {
    uint64_t n;
    if (!varint(n) || static_cast<uint64_t>(m_end - m_p) < n)
      return false;
    out = std::string_view(reinterpret_cast<const char*>(m_p), n);
    m_p += n;
    return true;
  }
  // Reads the next key; wire type in `type`.
  bool key(uint32_t& field, uint32_t& type) {
    uint64_t k;
    if (!varint(k))
      return false;
    field = static_cast<uint32_t>(k >> 3);
    type = static_cast<uint32_t>(k & 7);
    return true;
  }
  bool skip(uint32_t type) {
    uint64_t v;
    uint32_t f;
    std::string_view s;
    switch (type) {
      case 0:
        return varint(v);
      case 1:
        return fixed64(v);
      case 2:
        return bytes(s);
      case 5:
        return fixed32(f);
      default:
        return false;
    }
  }

 private:
  const uint8_t* m_p;
  const uint8_t* m_end;
};

Status bad_proto(const char* what) {
  return make_error(ErrorCode::corrupt, std::string("malformed TensorBoard event: ") + what);
}

double as_double(uint64_t bits) {
  double d;
  std::memcpy(&d, &bits, 8);
  return d;
}

float as_float(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

// TensorProto: a rank-0 DT_FLOAT (1) or DT_DOUBLE (2) value, if it is one.
bool tensor_scalar(std::string_view t, double& value) {
  Wire w(t);
  int64_t dtype = 0;
  bool rank0 = true, have = false;
  uint32_t field, type;
  while (!w.done()) {
    if (!w.key(field, type))
      return false;
    if (field == 1 && type == 0) {
      uint64_t v;
      if (!w.varint(v))
        return false;
      dtype = static_cast<int64_t>(v);
    } else if (field == 2 && type == 2) {  // TensorShapeProto: any dim => not a scalar
      std::string_view shape;
      if (!w.bytes(shape))
        return false;
      Wire sw(shape);
      uint32_t sf, st;
      while (!sw.done()) {
        if (!sw.key(sf, st))
          return false;
        if (sf == 2)
          rank0 = false;
        if (!sw.skip(st))
          return false;
      }
    } else if (field == 4 && type == 2) {  // tensor_content
      std::string_view c;
      if (!w.bytes(c))
        return false;
      if (c.size() == 4) {
        uint32_t b;
        std::memcpy(&b, c.data(), 4);
        value = as_float(b);
        have = true;
      } else if (c.size() == 8) {
        uint64_t b;
        std::memcpy(&b, c.data(), 8);
        value = as_double(b);
        have = true;
      }
    } else if (field == 5) {  // float_val, packed or not
      if (type == 2) {
        std::string_view packed;
        if (!w.bytes(packed))
          return false;
        if (packed.size() >= 4) {
          uint32_t b;
          std::memcpy(&b, packed.data(), 4);
          value = as_float(b);
          have = true;
        }
      } else if (type == 5) {
        uint32_t b;
        if (!w.fixed32(b))
          return false;
        value = as_float(b);
        have = true;
      } else if (!w.skip(type)) {
        return false;
      }
    } else if (field == 6) {  // double_val
      if (type == 2) {
        std::string_view packed;
        if (!w.bytes(packed))
          return false;
        if (packed.size() >= 8) {
          uint64_t b;
          std::memcpy(&b, packed.data(), 8);
          value = as_double(b);
          have = true;
        }
      } else if (type == 1) {
        uint64_t b;
        if (!w.fixed64(b))
          return false;
        value = as_double(b);
        have = true;
      } else if (!w.skip(type)) {
        return false;
      }
    } else if (!w.skip(type)) {
      return false;
    }
  }
  return have && rank0 && (dtype == 1 || dtype == 2);
}

// Summary.Value; sets is_scalar_plugin when its metadata names the "scalars" plugin.
Status parse_value(std::string_view v, int64_t step, double wall, std::vector<TbScalar>& out,
                   std::vector<std::string>* scalar_tags) {
  Wire w(v);
  std::string tag;
  bool has_simple = false, has_tensor = false, plugin_scalars = false;
  float simple = 0;
  std::string_view tensor;
  uint32_t field, type;
  while (!w.done()) {
    if (!w.key(field, type))
      return bad_proto("truncated Summary.Value");
    if (field == 1 && type == 2) {
      std::string_view s;
      if (!w.bytes(s))
        return bad_proto("bad tag");
      tag = std::string(s);
    } else if (field == 2 && type == 5) {
      uint32_t b;
      if (!w.fixed32(b))
        return bad_proto("bad simple_value");
      simple = as_float(b);
      has_simple = true;
    } else if (field == 8 && type == 2) {
      if (!w.bytes(tensor))
        return bad_proto("bad tensor");
      has_tensor = true;
    } else if (field == 9 && type == 2) {  // SummaryMetadata
      std::string_view meta;
      if (!w.bytes(meta))
        return bad_proto("bad metadata");
      Wire mw(meta);
      uint32_t mf, mt;
      while (!mw.done()) {
        if (!mw.key(mf, mt))
          return bad_proto("bad metadata field");
        if (mf == 1 && mt == 2) {  // PluginData
          std::string_view pd;
          if (!mw.bytes(pd))
            return bad_proto("bad plugin_data");
          Wire pw(pd);
          uint32_t pf, pt;
          while (!pw.done()) {
            if (!pw.key(pf, pt))
              return bad_proto("bad plugin_data field");
            if (pf == 1 && pt == 2) {
              std::string_view name;
              if (!pw.bytes(name))
                return bad_proto("bad plugin_name");
              plugin_scalars = name == "scalars";
            } else if (!pw.skip(pt)) {
              return bad_proto("bad plugin_data field");
            }
          }
        } else if (!mw.skip(mt)) {
          return bad_proto("bad metadata field");
        }
      }
    } else if (!w.skip(type)) {
      return bad_proto("bad Summary.Value field");
    }
  }
  if (has_simple) {
    out.push_back(TbScalar{tag, step, static_cast<double>(simple), wall});
    return {};
  }
  if (has_tensor) {
    bool known = false;
    if (scalar_tags) {
      for (const auto& t : *scalar_tags)
        known = known || t == tag;
      if (plugin_scalars && !known) {
        scalar_tags->push_back(tag);
        known = true;
      }
    } else {
      known = plugin_scalars;
    }
    double value = 0;
    if (known && tensor_scalar(tensor, value))
      out.push_back(TbScalar{tag, step, value, wall});
  }
  return {};
}

Status parse_event_impl(std::string_view event, std::vector<TbScalar>& out,
                        std::vector<std::string>* scalar_tags) {
  Wire w(event);
  double wall = 0;
  int64_t step = 0;
  std::string_view summary;
  bool has_summary = false;
  uint32_t field, type;
  while (!w.done()) {
    if (!w.key(field, type))
      return bad_proto("truncated Event");
    if (field == 1 && type == 1) {
      uint64_t b;
      if (!w.fixed64(b))
        return bad_proto("bad wall_time");
      wall = as_double(b);
    } else if (field == 2 && type == 0) {
      uint64_t v;
      if (!w.varint(v))
        return bad_proto("bad step");
      step = static_cast<int64_t>(v);
    } else if (field == 5 && type == 2) {
      if (!w.bytes(summary))
        return bad_proto("bad summary");
      has_summary = true;
    } else if (!w.skip(type)) {
      return bad_proto("bad Event field");
    }
  }
  if (!has_summary)
    return {};
  Wire sw(summary);
  while (!sw.done()) {
    if (!sw.key(field, type))
      return bad_proto("truncated Summary");
    if (field == 1 && type == 2) {
      std::string_view value;
      if (!sw.bytes(value))
        return bad_proto("bad Summary.value");
      RH_TRY(parse_value(value, step, wall, out, scalar_tags));
    } else if (!sw.skip(type)) {
      return bad_proto("bad Summary field");
    }
  }
  return {};
}

}  // namespace

uint32_t crc32c(const void* data, size_t n) {
  static const auto table = make_crc_table();
  uint32_t c = 0xFFFFFFFFu;
  const auto* p = static_cast<const uint8_t*>(data);
  for (size_t i = 0; i < n; ++i)
    c = table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

uint32_t masked_crc32c(const void* data, size_t n) {
  uint32_t c = crc32c(data, n);
  return ((c >> 15) | (c << 17)) + 0xa282ead8u;
}

Status parse_tb_event(std::string_view event, std::vector<TbScalar>& out) {
  return parse_event_impl(event, out, nullptr);
}

Status TbFileReader::poll(std::vector<TbScalar>& out) {
  if (m_failed)
    return {};
  int fd = ::open(m_path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT)
      return {};
    return make_error(ErrorCode::io, "cannot open " + m_path + ": " + std::strerror(errno));
  }
  std::string data;
  char buf[65536];
  off_t pos = static_cast<off_t>(m_offset);
  while (true) {
    ssize_t k = ::pread(fd, buf, sizeof buf, pos);
    if (k < 0 && errno == EINTR)
      continue;
    if (k <= 0)
      break;
    data.append(buf, static_cast<size_t>(k));
    pos += k;
  }
  ::close(fd);
  size_t p = 0;
  while (data.size() - p >= 12) {
    uint64_t len;
    uint32_t len_crc;
    std::memcpy(&len, data.data() + p, 8);
    std::memcpy(&len_crc, data.data() + p + 8, 4);
    if (masked_crc32c(data.data() + p, 8) != len_crc) {
      m_failed = true;
      return make_error(ErrorCode::corrupt, m_path + ": record length CRC mismatch at offset " +
                                                std::to_string(m_offset + p));
    }
    if (data.size() - p - 12 < len + 4)
      break;  // not written completely yet
    std::string_view rec(data.data() + p + 12, len);
    uint32_t data_crc;
    std::memcpy(&data_crc, data.data() + p + 12 + len, 4);
    if (masked_crc32c(rec.data(), rec.size()) != data_crc) {
      m_failed = true;
      return make_error(ErrorCode::corrupt, m_path + ": record data CRC mismatch at offset " +
                                                std::to_string(m_offset + p));
    }
    if (auto st = parse_event_impl(rec, out, &m_scalar_tags); !st) {
      m_failed = true;
      return make_error(ErrorCode::corrupt, m_path + " at offset " + std::to_string(m_offset + p) +
                                                ": " + st.error().message);
    }
    p += 12 + len + 4;
    ++m_records;
  }
  m_offset += p;
  return {};
}

std::pair<std::string, std::string> split_tb_tag(const std::string& tag) {
  auto pos = tag.find_last_of('/');
  if (pos == std::string::npos || pos == 0 || pos + 1 == tag.size())
    return {tag, tag};
  return {tag.substr(0, pos), tag.substr(pos + 1)};
}

}  // namespace rh
