// Reading a database or TCCL XML file whole, with a size bound (they are untrusted input).
#pragma once

#include <cstddef>
#include <string>

namespace tccl::db {

inline constexpr size_t kMaxDatabaseFileBytes = 64u << 20;

// False with *error ("<path>: cannot open file", "...: read error", "...: larger than ...").
bool readTextFile(const std::string& path, std::string* text, std::string* error);

}  // namespace tccl::db
