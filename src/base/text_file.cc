#include "base/text_file.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>

namespace tccl {

bool readTextFile(const std::string& path, std::string* text, std::string* error, size_t maxBytes) {
  std::unique_ptr<FILE, int (*)(FILE*)> f(fopen(path.c_str(), "rb"), fclose);
  if (!f) {
    *error = path + ": cannot open file: " + strerror(errno);
    return false;
  }
  struct stat st {};
  if (fstat(fileno(f.get()), &st) == 0 && S_ISREG(st.st_mode) &&
      static_cast<uint64_t>(st.st_size) > maxBytes) {  // no need to read it to know
    *error = path + ": file larger than " + std::to_string(maxBytes >> 20) + " MiB";
    return false;
  }
  std::string out;
  char buf[1 << 16];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), f.get())) > 0) {
    if (out.size() + n > maxBytes) {
      *error = path + ": file larger than " + std::to_string(maxBytes >> 20) + " MiB";
      return false;
    }
    out.append(buf, n);
  }
  if (ferror(f.get())) {
    *error = path + ": read error: " + strerror(errno);
    return false;
  }
  *text = std::move(out);
  return true;
}

}  // namespace tccl
