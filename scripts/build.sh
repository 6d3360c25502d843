#!/usr/bin/env bash
# Configures (once) and builds tadd into build/ (or $TADD_BUILD_DIR).
set -euo pipefail
cd "$(dirname "$0")/.."
build=${TADD_BUILD_DIR:-build}
if [ ! -f "$build/build.ninja" ]; then
    meson setup "$build" "$@"
fi
ninja -C "$build"
