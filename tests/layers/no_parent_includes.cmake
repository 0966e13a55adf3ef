# A quoted include is looked up first beside the including file, so "../core/x.h" would reach
# around a layer's include view. No file of the layers may spell one.
# cmake -DROOT=<source dir> -P no_parent_includes.cmake
file(GLOB_RECURSE files ${ROOT}/src/*.h ${ROOT}/src/*.cc ${ROOT}/src/*.cu ${ROOT}/transport/*.h
  ${ROOT}/transport/*.cc)
set(found "")
foreach(file IN LISTS files)
  file(STRINGS ${file} lines REGEX "^[ \t]*#[ \t]*include[ \t]*\"[^\"]*\\.\\./")
  foreach(line IN LISTS lines)
    string(APPEND found "\n  ${file}: ${line}")
  endforeach()
endforeach()
list(LENGTH files count)
if(count EQUAL 0)
  message(FATAL_ERROR "no sources under ${ROOT}/src and ${ROOT}/transport")
endif()
if(found)
  message(FATAL_ERROR "includes that climb out of their folder:${found}")
endif()
message(STATUS "${count} files of the layers, no include climbs out of its folder")
