// A fresh temporary folder per test, removed afterwards (test-only helper).
#pragma once

#include <string>

namespace rh::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return m_path; }

 private:
  std::string m_path;
};

}  // namespace rh::testing
