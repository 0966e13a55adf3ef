#include "db/text_file.h"

#include <fstream>
#include <sstream>

namespace tccl::db {

bool readTextFile(const std::string& path, std::string* text, std::string* error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    *error = path + ": cannot open file";
    return false;
  }
  in.seekg(0, std::ios::end);
  const std::streamoff size = in.tellg();
  if (size > static_cast<std::streamoff>(kMaxDatabaseFileBytes)) {
    *error = path + ": file larger than " + std::to_string(kMaxDatabaseFileBytes >> 20) + " MiB";
    return false;
  }
  in.seekg(0, std::ios::beg);
  std::ostringstream buf;
  buf << in.rdbuf();
  if (in.bad()) {
    *error = path + ": read error";
    return false;
  }
  *text = buf.str();
  return true;
}

}  // namespace tccl::db
