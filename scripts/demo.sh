#!/usr/bin/env bash
# What a new user sees first: builds tadd, starts taddd in the home folder
# (runs/, or $TADD_HOME), submits the smoke sweep, shows its progress until
# it is done, then prints its results and draws its curves.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${TADD_BUILD_DIR:-build}
home=${TADD_HOME:-runs}
sweep=configs/smoke.json

./scripts/build.sh >/dev/null
ctl() { "$build/cli/taddctl" --home "$home" "$@"; }

if ! ctl ping >/dev/null 2>&1; then
    "$build/daemon/taddd" --home "$home" --daemonize
fi
ctl ping

if ctl show smoke >/dev/null 2>&1; then
    echo "smoke is already queued in $home; following it"
else
    ctl submit "$sweep"
fi

# Progress every few seconds until every trial has a result; wait's exit
# status 3 means "not yet", anything else but 0 is a real error.
while :; do
    rc=0
    ctl wait smoke --timeout 5 >/dev/null 2>&1 || rc=$?
    [ "$rc" -eq 0 ] && break
    [ "$rc" -eq 3 ] || { ctl wait smoke --timeout 1; exit 1; }
    ctl status
    echo
done
ctl status
echo
ctl results smoke
ctl plot smoke -o "$home/smoke/curves.png"
echo
echo "The daemon keeps running: '$build/cli/taddctl --home $home shutdown' stops it."
