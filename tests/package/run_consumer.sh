#!/usr/bin/env bash
# Usage: run_consumer.sh BUILD_DIR CONSUMER_SOURCE_DIR
# Installs TCCL from BUILD_DIR into a temporary prefix, builds the consumer project against it
# with find_package(tccl) and runs it.
set -eu
build=$1 source=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >"$work/install.log" || { cat "$work/install.log"; exit 1; }
echo "installed into $work/prefix:"
(cd "$work/prefix" && find . -type f -o -type l | sort | sed 's/^/  /')
cmake -S "$source" -B "$work/build" -DCMAKE_PREFIX_PATH="$work/prefix" -DCMAKE_BUILD_TYPE=Release
cmake --build "$work/build" --verbose
TCCL_DEVICE=host "$work/build/tccl_consumer"
