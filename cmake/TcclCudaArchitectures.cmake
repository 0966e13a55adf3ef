# The CUDA architectures TCCL builds for by default: every GPU generation that people put in
# PCIe servers and that the toolkit still supports, as SASS, plus PTX of the newest so that
# later GPUs can JIT-compile it:
#   70 V100 (CUDA < 13 only: CUDA 13 dropped Volta), 75 T4 / RTX 20, 80 A100, 86 A10 / A40 /
#   RTX 30, 89 L4 / L40 / RTX 40, 90 H100, 100 B200 and 120 RTX 50 / RTX PRO 6000 (CUDA 12.8+).
# Result: "70-real;...;90-real;...;120" (the last entry without -real also carries its PTX).
function(tccl_default_cuda_architectures nvcc_version out)
  set(archs 75 80 86 89 90)
  if(nvcc_version VERSION_LESS 13.0)
    list(PREPEND archs 70)
  endif()
  if(nvcc_version VERSION_GREATER_EQUAL 12.8)
    list(APPEND archs 100 120)
  endif()
  list(POP_BACK archs newest)
  list(TRANSFORM archs APPEND "-real")
  list(APPEND archs ${newest})
  set(${out} "${archs}" PARENT_SCOPE)
endfunction()
