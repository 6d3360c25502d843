#!/usr/bin/env bash
# A single-node Slurm cluster (munged, slurmctld, slurmd) living entirely
# in one folder, for trying tadd's slurm executor and for its tests.
#
#   scripts/slurm-local.sh start [DIR]   start it (DIR: a new temporary
#                                        folder by default) and print the
#                                        shell lines that point clients
#                                        at it:  eval "$(... start)"
#   scripts/slurm-local.sh stop DIR      cancel its jobs, stop the daemons
#                                        and remove DIR
#   scripts/slurm-local.sh check         exit 0 when it can be started
#                                        here, else 77 with the reason
#
# Layout of DIR: etc/slurm.conf, munge/ (key, socket), state/, spool/,
# log/ (daemon logs, jobcomp.txt), run/ (pid files). Needs root and
# Debian's packages slurmctld slurmd slurm-client munge. Ports are picked
# free at start, so several clusters may run side by side.
set -euo pipefail

die() {
    echo "slurm-local: $*" >&2
    exit 1
}

# Prints why a cluster cannot be started here; nothing when it can.
cannot_start() {
    local prog
    for prog in munged slurmctld slurmd sbatch squeue scontrol sacct \
        scancel sinfo; do
        if ! command -v "$prog" >/dev/null 2>&1 &&
            [ ! -x "/usr/sbin/$prog" ]; then
            echo "$prog not found (apt-get install -y" \
                "--no-install-recommends slurmctld slurmd slurm-client munge)"
            return
        fi
    done
    if [ "$(id -u)" -ne 0 ]; then
        echo "slurmd must run as root to start jobs (running as $(id -un))"
    fi
}

prog_path() {
    if command -v "$1" >/dev/null 2>&1; then
        command -v "$1"
    else
        echo "/usr/sbin/$1"
    fi
}

port_free() {
    [ -z "$(ss -Hltn "sport = :$1" 2>/dev/null)" ]
}

pick_port() {
    local p tries=0
    while [ $tries -lt 200 ]; do
        p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
        if port_free "$p" && [ "$p" != "${1:-}" ]; then
            echo "$p"
            return
        fi
        tries=$((tries + 1))
    done
    die "no free TCP port found"
}

write_conf() {
    local dir=$1 host=$2 ctld_port=$3 d_port=$4
    local cpus mem_mb
    cpus=$(nproc)
    mem_mb=$(awk '/^MemTotal:/ { printf "%d", $2 / 1024 * 0.95 }' \
        /proc/meminfo)
    # Every key below is one that a bare single-node cluster without
    # systemd, cgroups or slurmdbd needs; see docs/slurm.md.
    cat >"$dir/etc/slurm.conf" <<EOF
ClusterName=tadd$ctld_port
SlurmctldHost=$host(127.0.0.1)
SlurmctldPort=$ctld_port
SlurmdPort=$d_port
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
AuthInfo=socket=$dir/munge/munge.socket.2
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/run/slurmctld.pid
SlurmdPidFile=$dir/run/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
SchedulerParameters=batch_sched_delay=0
MpiDefault=none
MailProg=/bin/true
ReturnToService=2
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/filetxt
JobCompLoc=$dir/log/jobcomp.txt
KillWait=10
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem_mb State=UNKNOWN
PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP
EOF
}

start_munge() {
    local dir=$1
    dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 \
        status=none
    chmod 0400 "$dir/munge/munge.key"
    "$(prog_path munged)" --key-file="$dir/munge/munge.key" \
        --socket="$dir/munge/munge.socket.2" \
        --pid-file="$dir/run/munged.pid" \
        --log-file="$dir/log/munged.log" \
        --seed-file="$dir/munge/munged.seed" ||
        die "munged did not start: $(tail -n 3 "$dir/log/munged.log" \
            2>/dev/null)"
}

# Waits until the controller answers and the node is idle; 30 s at most.
wait_ready() {
    local dir=$1 host=$2 i state
    for i in $(seq 1 300); do
        if scontrol ping 2>/dev/null | grep -q "is UP"; then
            state=$(sinfo -h -n "$host" -o %T 2>/dev/null || true)
            if [ "$state" = idle ]; then
                return 0
            fi
        fi
        sleep 0.1
    done
    echo "slurm-local: cluster in $dir not ready after 30 s" >&2
    tail -n 5 "$dir/log/slurmctld.log" "$dir/log/slurmd.log" >&2 || true
    return 1
}

cmd_start() {
    local dir=${1:-} host reason ctld_port d_port
    reason=$(cannot_start)
    [ -z "$reason" ] || die "$reason"
    if [ -z "$dir" ]; then
        dir=$(mktemp -d /tmp/slurm.XXXXXX)
    else
        mkdir -p "$dir"
        dir=$(cd "$dir" && pwd)
    fi
    # munged insists that everyone may traverse its socket's folders.
    chmod 0755 "$dir"
    local up=$dir
    while [ "$up" != / ]; do
        up=$(dirname "$up")
        if [ "$(( 0$(stat -c %a "$up") & 01 ))" -eq 0 ]; then
            die "$up is not open to all (mode $(stat -c %a "$up")); munged" \
                "needs every folder above its socket to be: use a folder" \
                "elsewhere, such as under /tmp"
        fi
    done
    mkdir -p "$dir/etc" "$dir/state" "$dir/spool" "$dir/log" "$dir/run"
    mkdir -m 0755 -p "$dir/munge"
    host=$(hostname -s)
    ctld_port=$(pick_port)
    d_port=$(pick_port "$ctld_port")
    write_conf "$dir" "$host" "$ctld_port" "$d_port"
    export SLURM_CONF=$dir/etc/slurm.conf
    start_munge "$dir"
    "$(prog_path slurmctld)" -f "$SLURM_CONF" ||
        die "slurmctld did not start (see $dir/log/slurmctld.log)"
    "$(prog_path slurmd)" -f "$SLURM_CONF" ||
        die "slurmd did not start (see $dir/log/slurmd.log)"
    if ! wait_ready "$dir" "$host"; then
        cmd_stop "$dir" >/dev/null 2>&1 || true
        exit 1
    fi
    echo "export SLURM_CONF='$SLURM_CONF'"
    echo "export TADD_SLURM_DIR='$dir'"
}

# Sends SIGTERM to the process in a pid file and waits up to 10 s for it.
stop_pidfile() {
    local file=$1 pid i
    [ -f "$file" ] || return 0
    pid=$(cat "$file" 2>/dev/null || true)
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null || return 0
    for i in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
}

cmd_stop() {
    local dir=${1:-}
    [ -n "$dir" ] || die "usage: slurm-local.sh stop DIR"
    [ -f "$dir/etc/slurm.conf" ] || die "$dir holds no slurm-local cluster"
    export SLURM_CONF=$dir/etc/slurm.conf
    if [ -f "$dir/run/slurmctld.pid" ]; then
        timeout 10 scancel --full --quiet --user=root 2>/dev/null || true
        # Let the node end what it runs before it goes away.
        for _ in $(seq 1 50); do
            [ -z "$(timeout 5 squeue -h -t R,CG 2>/dev/null)" ] && break
            sleep 0.1
        done
    fi
    stop_pidfile "$dir/run/slurmd.pid"
    stop_pidfile "$dir/run/slurmctld.pid"
    stop_pidfile "$dir/run/munged.pid"
    rm -rf "$dir"
}

case "${1:-}" in
start)
    cmd_start "${2:-}"
    ;;
stop)
    cmd_stop "${2:-}"
    ;;
check)
    reason=$(cannot_start)
    if [ -n "$reason" ]; then
        echo "$reason"
        exit 77
    fi
    ;;
*)
    echo "usage: slurm-local.sh start [DIR] | stop DIR | check" >&2
    exit 2
    ;;
esac
