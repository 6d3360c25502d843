#!/usr/bin/env bash
# Runs the test suites under the address and undefined-behaviour checkers,
# then the C tests of suites common, worker and fuzz under valgrind.
#
#   scripts/sanitize.sh [asan|valgrind|all]     (default: all)
#
# Build folders: $TADD_ASAN_BUILD (default build-asan) and
# $TADD_VALGRIND_BUILD (default build-valgrind), set up when missing.
# Exit status 0 only when every step
# passed; the failing steps are listed at the end.
set -uo pipefail

# Valgrind wraps the C test programs only: the shell and Python tests
# would have valgrind check bash or python3, not the project's code.
if [ "${1:-}" = --valgrind-exec ]; then
    shift
    case $1 in
        /usr/* | /bin/*) exec "$@" ;;
    esac
    if [ "$(head -c 4 "$1" 2>/dev/null | od -An -c | tr -d ' ')" = \
         '177ELF' ]; then
        exec valgrind -q --error-exitcode=101 --leak-check=full \
            --errors-for-leak-kinds=definite,indirect "$@"
    fi
    exec "$@"
fi

# Everything below runs at the lowest priority; other work shares the
# machine.
if [ -z "${TADD_SANITIZE_NICED:-}" ]; then
    export TADD_SANITIZE_NICED=1
    exec nice -n 19 "$0" "$@"
fi

root=$(cd "$(dirname "$0")/.." && pwd)
self=$root/scripts/sanitize.sh
mode=${1:-all}
# Absolute, since tests run in folders of their own and the suppression
# file below is named by its path.
asan_build=$(realpath -m "${TADD_ASAN_BUILD:-$root/build-asan}")
vg_build=$(realpath -m "${TADD_VALGRIND_BUILD:-$root/build-valgrind}")
failed=()

case $mode in
    asan | valgrind | all) ;;
    *) echo "usage: $0 [asan|valgrind|all]" >&2; exit 2 ;;
esac

# step NAME COMMAND...: runs one step, records it when it fails.
step() {
    local name=$1 t0=$SECONDS
    shift
    echo "== $name"
    if "$@"; then
        echo "== $name: ok ($((SECONDS - t0)) s)"
    else
        echo "== $name: FAILED ($((SECONDS - t0)) s)"
        failed+=("$name")
    fi
}

setup() {
    local dir=$1
    shift
    [ -f "$dir/build.ninja" ] && return 0
    meson setup "$dir" "$root" "$@"
}

if [ "$mode" != valgrind ]; then
    # A finding must fail the test that hit it: UBSan only prints by
    # default. A distinct exit code keeps it apart from the exit status
    # 1 that the worker's own tests expect for bad input.
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=99
    export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1:exitcode=99
    step "asan: setup" setup "$asan_build" -Db_sanitize=address,undefined \
        -Dbuildtype=debugoptimized
    # plplot's font lookup leaves fontconfig's and libltdl's caches
    # allocated at exit; those are the libraries' leaks, not the
    # project's, and plplot offers no call to free them.
    supp=$asan_build/lsan.supp
    printf 'leak:libfontconfig.so\nleak:libltdl.so\n' > "$supp"
    export LSAN_OPTIONS=suppressions=$supp:print_suppressions=0
    step "asan: build" ninja -C "$asan_build"
    step "asan: tests" meson test -C "$asan_build" --print-errorlogs \
        --timeout-multiplier 3
    unset ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS
fi

if [ "$mode" != asan ]; then
    if ! command -v valgrind > /dev/null; then
        echo "== valgrind: not installed (apt-get install valgrind)"
        failed+=("valgrind: not installed")
    else
        step "valgrind: setup" setup "$vg_build" -Dbuildtype=debugoptimized
        step "valgrind: build" ninja -C "$vg_build"
        step "valgrind: tests" meson test -C "$vg_build" --print-errorlogs \
            --suite common --suite worker --suite fuzz \
            --timeout-multiplier 10 --wrapper "$self --valgrind-exec"
    fi
fi

if [ ${#failed[@]} -gt 0 ]; then
    printf 'sanitize: FAILED: %s\n' "${failed[@]}"
    exit 1
fi
echo "sanitize: all passed"
