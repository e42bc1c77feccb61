// Env: the seam between the library and the operating system's clock and
// randomness, so tests can run with a fake clock and deterministic IDs.
//
// Every object that stamps times or makes IDs takes an Env& from its owner;
// there is no global. RealEnv is thread-safe; FakeEnv is thread-safe too
// (tests drive it from several threads).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

namespace rh {

class Env {
 public:
  virtual ~Env() = default;
  // Wall-clock time in seconds since the Unix epoch.
  virtual double now() = 0;
  // 64 random bits; good enough for IDs, not for keys.
  virtual uint64_t random_u64() = 0;

  // A new task/object ID: UUIDv7 as 32 lowercase hex digits (time-ordered,
  // so listings by ID are listings by creation).
  std::string new_id();
};

class RealEnv final : public Env {
 public:
  double now() override;
  uint64_t random_u64() override;
};

// Time starts at `start` and moves only when advanced; randomness is a
// counter-seeded generator.
class FakeEnv final : public Env {
 public:
  explicit FakeEnv(double start = 1'700'000'000.0) : m_now_us(static_cast<int64_t>(start * 1e6)) {}
  double now() override { return static_cast<double>(m_now_us.load()) / 1e6; }
  uint64_t random_u64() override;
  void advance(double seconds) { m_now_us += static_cast<int64_t>(seconds * 1e6); }

 private:
  std::atomic<int64_t> m_now_us;
  std::atomic<uint64_t> m_counter{0};
};

}  // namespace rh
