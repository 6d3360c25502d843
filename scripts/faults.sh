#!/usr/bin/env bash
# The long fault-injection run, by hand: several rounds of the suite's
# test_faults with more kills and a longer sweep, each round with its own
# seed, the daemon and then its workers killed with SIGKILL at random
# moments, then kills aimed inside database transactions and file
# writes, then the database locked for 40 s. Prints each round's figures; exit status 0 only when every
# round finished every trial exactly once with the results of an
# uninterrupted run.
#
#   scripts/faults.sh [BUILD] [ROUNDS] [KILLS] [STEPS]
#
# Defaults: build-hardening, 3 rounds, 60 kills of each, 4000 steps
# (about 10 minutes on 2 cores). Runs under nice -n 19.
set -uo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build-hardening}
rounds=${2:-3}
kills=${3:-60}
steps=${4:-4000}
exe=$build/tests/hostile/test_faults
failed=0

[ -x "$exe" ] || { echo "$exe: not built (ninja -C $build)" >&2; exit 2; }
export TADD_BUILD_ROOT=$build TADD_SOURCE_ROOT=$root
for r in $(seq 1 "$rounds"); do
    seed=$(( (RANDOM << 15) | RANDOM ))
    echo "== round $r: seed $seed, $kills kills, $steps steps"
    start=$SECONDS
    if nice -n 19 "$exe" --mode both --kills "$kills" --steps "$steps" \
            --seed "$seed" 2>&1 | grep -v '^[0-9]* 20[0-9-]* '; then
        :
    fi
    status=${PIPESTATUS[0]}
    echo "== round $r: exit $status in $((SECONDS - start)) s"
    [ "$status" -eq 0 ] || failed=$((failed + 1))
    # Aimed kills (inside transactions and file writes), twice as many
    # steps as the random ones, and a lock held past the daemon's 30 s
    # wait, whose refused events must still all be recorded.
    for mode in aimed db-locked=40; do
        start=$SECONDS
        mode_steps=$steps
        [ "$mode" = aimed ] && mode_steps=$((2 * steps))
        nice -n 19 "$exe" --mode "$mode" --kills "$kills" \
            --steps "$mode_steps" --seed "$seed" 2>&1 |
            grep -v '^[0-9]* 20[0-9-]* '
        status=${PIPESTATUS[0]}
        echo "== round $r, $mode: exit $status in $((SECONDS - start)) s"
        [ "$status" -eq 0 ] || failed=$((failed + 1))
    done
done
echo "faults: $failed of $rounds rounds failed"
[ "$failed" -eq 0 ]
