# The layers of the library (docs/architecture.md, "Layers"). Each layer is one folder and one
# target that links only the layers below it. A layer's sources compile against an include view
# that holds its own folder and those of the layers below it and nothing else, so an upward
# include ("core/communicator.h" in transport/) fails the build with "No such file".
#
# A view is a folder of the build tree, layer-include/<layer>/, with one symbolic link per
# allowed folder: layer-include/transport/plan -> src/plan. Includes are spelled from the folder
# name ("plan/hop.h"), so a header found through a view resolves its own includes through that
# view too.
set(TCCL_LAYER_INCLUDE_ROOT ${PROJECT_BINARY_DIR}/layer-include CACHE INTERNAL
  "Where the layers' include views are made")

function(_tccl_layer_folder_source folder out)
  if(folder STREQUAL "transport")
    set(${out} ${PROJECT_SOURCE_DIR}/transport PARENT_SCOPE)
  else()
    set(${out} ${PROJECT_SOURCE_DIR}/src/${folder} PARENT_SCOPE)
  endif()
endfunction()

# tccl_layer_view(<layer> <folder>...): declares which folders <layer> may include from (its own
# first) and makes its view.
function(tccl_layer_view layer)
  set(view ${TCCL_LAYER_INCLUDE_ROOT}/${layer})
  file(MAKE_DIRECTORY ${view})
  # Drop links that a former configuration made and this one does not want (a link only: the
  # folder it points to is never touched).
  file(GLOB existing LIST_DIRECTORIES true ${view}/*)
  foreach(entry IN LISTS existing)
    get_filename_component(name ${entry} NAME)
    if(NOT name IN_LIST ARGN)
      if(NOT IS_SYMLINK ${entry})
        message(FATAL_ERROR "${entry} is not a link of a layer view")
      endif()
      file(REMOVE ${entry})
    endif()
  endforeach()
  foreach(folder IN LISTS ARGN)
    _tccl_layer_folder_source(${folder} source)
    if(NOT IS_DIRECTORY ${source})
      message(FATAL_ERROR "layer ${layer}: no folder ${source}")
    endif()
    file(CREATE_LINK ${source} ${view}/${folder} SYMBOLIC)
  endforeach()
  set_property(GLOBAL PROPERTY TCCL_LAYER_FOLDERS_${layer} "${ARGN}")
endfunction()

# The include directories of <layer>'s view, into <out>: the view, and the public headers
# (include/tccl, the generated version.h).
function(tccl_layer_include_dirs layer out)
  get_property(folders GLOBAL PROPERTY TCCL_LAYER_FOLDERS_${layer})
  if(NOT folders)
    message(FATAL_ERROR "no layer view named ${layer}")
  endif()
  set(${out} ${TCCL_LAYER_INCLUDE_ROOT}/${layer} ${PROJECT_SOURCE_DIR}/include
    ${PROJECT_BINARY_DIR}/include PARENT_SCOPE)
endfunction()

# tccl_layer_target(<target> <layer>): <target> compiles against <layer>'s view and hands it
# on to what links it.
function(tccl_layer_target target layer)
  tccl_layer_include_dirs(${layer} dirs)
  list(TRANSFORM dirs PREPEND "$<BUILD_INTERFACE:")
  list(TRANSFORM dirs APPEND ">")
  target_include_directories(${target} PUBLIC ${dirs})
endfunction()

# The views, bottom up. A layer's folders are the union of its own and those of the layers it
# links, so linking and including say the same thing.
tccl_layer_view(base base)
tccl_layer_view(topo topo base)
tccl_layer_view(plan plan topo base)
tccl_layer_view(db db plan topo base)
tccl_layer_view(model model db plan topo base)
tccl_layer_view(search search model db plan topo base)
tccl_layer_view(device device base)
tccl_layer_view(transport transport device plan topo base)
tccl_layer_view(exec exec transport device plan topo base)
tccl_layer_view(core core exec transport device search model db plan topo base)
tccl_layer_view(api api core exec transport device search model db plan topo base)
