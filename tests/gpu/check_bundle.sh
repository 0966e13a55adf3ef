#!/usr/bin/env bash
# Usage: check_bundle.sh BUNDLE
# Checks a bundle made by prepare.sh before it travels to a bare GPU machine (run by prepare.sh,
# so in CI too):
#   - its size is under 48 MiB (TCCL_BUNDLE_MAX_MIB);
#   - every ELF file in it needs (NEEDED) only the C/C++ runtime, the driver's libcuda.so.1, or
#     a library of the bundle's lib/ (libtccl.so.0); nothing of the build machine's development
#     packages (hwloc, pugixml, GoogleTest, the shared CUDA runtime). The carried libhwloc in
#     lib/hwloc/ is for loading at run time only: no program may need it, and it may need only
#     what sits beside it;
#   - libtccl.so.0 and libnccl.so.2 need no more than the real libnccl.so.2
#     (tests/dropin/check_needed.sh, against the system's libnccl.so.2 when there is one);
#   - every ELF file loads here: its NEEDED entries and symbol versions resolve;
#   - prints each file's NEEDED list and the newest glibc and libstdc++ symbol versions the
#     bundle uses (the oldest system it can run on): "requires: GLIBC_x GLIBCXX_y".
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
B=$(cd "${1:?usage: check_bundle.sh BUNDLE}" && pwd) || exit 2
MAX_MIB=${TCCL_BUNDLE_MAX_MIB:-48}
command -v readelf > /dev/null || { echo "check_bundle.sh: needs readelf (binutils)"; exit 2; }
runtime="libc.so.6 libm.so.6 libdl.so.2 libpthread.so.0 librt.so.1 ld-linux-x86-64.so.2
  libgcc_s.so.1 libstdc++.so.6"
rc=0
fail() { echo "FAIL: $*"; rc=1; }

bytes=$(find "$B" -type f -printf '%s\n' | awk '{s += $1} END {print s + 0}')
mib=$(awk -v b="$bytes" 'BEGIN {printf "%.1f", b / 1048576}')
echo "bundle $B: $mib MiB ($bytes bytes) in $(find "$B" -type f | wc -l) files, limit $MAX_MIB MiB"
[ "$bytes" -lt $((MAX_MIB * 1048576)) ] || fail "the bundle is $mib MiB, over $MAX_MIB MiB"

elves=()
while IFS= read -r f; do
  [ "$(head -c 4 "$f" | od -An -tx1 | tr -d ' ')" = 7f454c46 ] && elves+=("$f")
done < <(find "$B" -type f | sort)
[ ${#elves[@]} -gt 0 ] || fail "no ELF files in $B"
glibc="" glibcxx=""
for f in "${elves[@]}"; do
  needed=$(readelf -d "$f" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
  runpath=$(readelf -d "$f" | sed -n 's/.*(RUNPATH).*\[\(.*\)\]/\1/p')
  versions=$(readelf -V "$f" | grep -oE 'GLIBC(XX)?_[0-9.]+' | sort -u)
  g=$(echo "$versions" | grep '^GLIBC_' | sort -V | tail -1)
  x=$(echo "$versions" | grep '^GLIBCXX_' | sort -V | tail -1)
  printf '%-40s %7s KiB  NEEDED: %s%s  [%s %s]\n' "${f#$B/}" $(($(stat -c %s "$f") / 1024)) \
    "$(echo $needed)" "${runpath:+  RUNPATH: $runpath}" "$g" "$x"
  glibc=$(printf '%s\n' $glibc $g | sort -V | tail -1)
  glibcxx=$(printf '%s\n' $glibcxx $x | sort -V | tail -1)
  carried=$(find "$(dirname "$f")" -maxdepth 1 -type f -name '*.so*' -printf '%f\n')
  [ "$(dirname "$f")" = "$B/bin" ] && carried=$(find "$B/lib" -maxdepth 1 -type f -name '*.so*' -printf '%f\n')
  for n in $needed; do
    case " $(echo $runtime libcuda.so.1 $carried) " in
      *" $n "*) ;;
      *) fail "${f#$B/} needs $n: not the C/C++ runtime, the driver, or a library beside it" ;;
    esac
  done
  # libhwloc.so.15 finds what it needs in its own folder, as run.sh arranges.
  unresolved=$(LD_LIBRARY_PATH=$B/lib/hwloc /lib64/ld-linux-x86-64.so.2 --list "$f" 2>&1 |
    grep -E 'not found' || true)
  [ -z "$unresolved" ] || fail "${f#$B/} does not load: $(echo $unresolved)"
  for n in $needed; do
    case $n in libtccl.so.0)
      [ "$runpath" = '$ORIGIN/../lib' ] || fail "${f#$B/} needs libtccl.so.0 but has RUNPATH '$runpath'" ;;
    esac
  done
done
echo "requires: $glibc $glibcxx"

real=$(ldconfig -p | awk '$1 == "libnccl.so.2" && /x86-64/ {print $NF; exit}')
"$HERE/../dropin/check_needed.sh" "${real:--}" "$B/lib/libtccl.so.0" "$B/lib/libnccl.so.2" || rc=1
[ $rc -eq 0 ] && echo "check_bundle.sh: OK"
exit $rc
