#include "roundhouse/env/env.h"

#include <chrono>
#include <random>

#include "roundhouse/util/strings.h"

namespace rh {

std::string Env::new_id() {
  // UUIDv7 (RFC 9562): 48-bit millisecond timestamp, version 7, 74 random bits.
  uint64_t ms = static_cast<uint64_t>(now() * 1000.0);
  uint64_t r1 = random_u64();
  uint64_t r2 = random_u64();
  unsigned char b[16];
  for (int i = 0; i < 6; ++i)
    b[i] = static_cast<unsigned char>(ms >> (40 - 8 * i));
  b[6] = static_cast<unsigned char>(0x70 | ((r1 >> 8) & 0x0F));
  b[7] = static_cast<unsigned char>(r1);
  b[8] = static_cast<unsigned char>(0x80 | ((r1 >> 16) & 0x3F));
  for (int i = 9; i < 16; ++i)
    b[i] = static_cast<unsigned char>(r2 >> (8 * (i - 9)));
  return to_hex(b, 16);
}

double RealEnv::now() {
  using namespace std::chrono;
  return duration<double>(system_clock::now().time_since_epoch()).count();
}

uint64_t RealEnv::random_u64() {
  thread_local std::mt19937_64 gen{std::random_device{}()};
  return gen();
}

uint64_t FakeEnv::random_u64() {
  // splitmix64 over a counter: deterministic, well spread.
  uint64_t z = (m_counter.fetch_add(1) + 1) * 0x9E3779B97F4A7C15ULL;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
  return z ^ (z >> 31);
}

}  // namespace rh
