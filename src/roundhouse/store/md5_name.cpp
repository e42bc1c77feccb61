// The md5 names BlobAliases takes (metadata_store.h).
#include <string>

#include "roundhouse/store/metadata_store.h"

namespace rh {

bool valid_md5_name(const std::string& name) {
  std::string hex = name.ends_with(".dir") ? name.substr(0, name.size() - 4) : name;
  if (hex.size() != 32)
    return false;
  for (char c : hex)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')))
      return false;
  return true;
}

}  // namespace rh
