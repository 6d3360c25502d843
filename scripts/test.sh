#!/usr/bin/env bash
# Builds tadd and runs the whole test suite, then prints one summary line
# "tests: N passed, N failed" read from meson's own log.
set -uo pipefail
cd "$(dirname "$0")/.."
build=${TADD_BUILD_DIR:-build}
./scripts/build.sh || exit 1
meson test -C "$build" --print-errorlogs --num-processes 2 "$@"
status=$?
log="$build/meson-logs/testlog.json"
if [ -f "$log" ]; then
    # An expected failure is a pass; an unexpected pass is a failure.
    passed=$(grep -c -E '"result": "(OK|EXPECTEDFAIL)"' "$log" || true)
    failed=$(grep -c -E '"result": "(FAIL|TIMEOUT|ERROR|UNEXPECTEDPASS)"' \
        "$log" || true)
    skipped=$(grep -c '"result": "SKIP"' "$log" || true)
    echo "tests: $passed passed, $failed failed, $skipped skipped"
fi
exit $status
