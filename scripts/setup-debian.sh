#!/usr/bin/env bash
# Installs what tadd needs to build, test and run on Debian 12, from
# Debian's own packages. Run as root, or as a user who may use sudo.
set -euo pipefail

packages=(
    gcc meson ninja-build pkg-config
    libsqlite3-dev sqlite3 libuv1-dev libcjson-dev libopenblas-dev
    libplplot-dev plplot-driver-cairo python3
    slurmctld slurmd slurm-client munge
)

as_root=()
if [ "$(id -u)" -ne 0 ]; then
    as_root=(sudo)
fi

missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
        grep -q "install ok installed" || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    "${as_root[@]}" apt-get update -qq
    "${as_root[@]}" apt-get install -y -qq --no-install-recommends \
        "${missing[@]}"
fi
echo "setup: all packages present"
