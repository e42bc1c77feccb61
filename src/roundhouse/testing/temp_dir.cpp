#include "roundhouse/testing/temp_dir.h"

#include <cstdlib>
#include <filesystem>
#include <stdexcept>

namespace rh::testing {

TempDir::TempDir() {
  std::string tmpl = "/tmp/rh-test-XXXXXX";
  if (!::mkdtemp(tmpl.data()))
    throw std::runtime_error("mkdtemp failed");
  m_path = tmpl;
}

TempDir::~TempDir() {
  std::error_code ec;
  // Blobs are read-only; remove_all unlinks them regardless (the folder is writable).
  std::filesystem::remove_all(m_path, ec);
}

}  // namespace rh::testing
