// Reading an untrusted input file whole (path database, TCCL XML, topology file), with a
// size bound that holds for pipes and devices too, where the size is not known in advance.
#pragma once

#include <cstddef>
#include <string>

namespace tccl {

inline constexpr size_t kMaxInputFileBytes = 64u << 20;

// False with *error ("<path>: cannot open file: ...", "...: read error", "...: larger than ...").
bool readTextFile(const std::string& path, std::string* text, std::string* error,
                  size_t maxBytes = kMaxInputFileBytes);

}  // namespace tccl
