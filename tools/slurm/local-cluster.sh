#!/usr/bin/env bash
# A real single-node Slurm cluster on this machine (Debian's slurm-wlm + munge), and a tiny
# `exp sweep --backend slurm` run through it.
#
#   bash tools/slurm/local-cluster.sh start    # install (apt-get), configure, start munged/slurmctld/slurmd
#   bash tools/slurm/local-cluster.sh smoke    # start, then sweep experiments/scripted-baselines-opensec
#                                              # (4 hold-out tasks) as a job array, wait, --collect, check
#   bash tools/slurm/local-cluster.sh stop     # stop the daemons
#
# Needs root (apt-get, /etc/slurm, daemons) and a built `exp` (EXP=path, default target/release/exp
# or target/debug/exp). Everything stays on localhost: ProctrackType linuxproc, no cgroups.
set -euo pipefail
cd "$(dirname "$0")/../.."

HOST=$(hostname -s)
CONF=/etc/slurm/slurm.conf
SPOOL=/var/spool/slurm-vigil
LOGDIR=/var/log/slurm-vigil

install() {
    if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq slurm-wlm munge >/dev/null
    fi
}

configure() {
    local cpus mem
    cpus=$(nproc)
    mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 1024 ))
    mkdir -p /etc/slurm "$SPOOL/ctld" "$SPOOL/d" "$LOGDIR"
    cat > "$CONF" <<CONF
ClusterName=vigil-local
SlurmctldHost=$HOST
SlurmUser=root
AuthType=auth/munge
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
StateSaveLocation=$SPOOL/ctld
SlurmdSpoolDir=$SPOOL/d
SlurmctldPidFile=/run/slurmctld-vigil.pid
SlurmdPidFile=/run/slurmd-vigil.pid
SlurmctldLogFile=$LOGDIR/slurmctld.log
SlurmdLogFile=$LOGDIR/slurmd.log
SchedulerType=sched/backfill
MaxArraySize=10001
NodeName=$HOST CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=local Nodes=$HOST Default=YES MaxTime=INFINITE State=UP
CONF
    # munge: a key, a runtime folder owned by the munge user.
    if [ ! -s /etc/munge/munge.key ]; then
        if command -v mungekey >/dev/null; then mungekey --create --force; else dd if=/dev/urandom of=/etc/munge/munge.key bs=1024 count=1 2>/dev/null; fi
    fi
    chown munge:munge /etc/munge/munge.key && chmod 400 /etc/munge/munge.key
    mkdir -p /run/munge /var/log/munge /var/lib/munge
    chown -R munge:munge /run/munge /var/log/munge /var/lib/munge /etc/munge
    chmod 0755 /run/munge
}

start() {
    install
    configure
    pgrep -x munged >/dev/null || runuser -u munge -- /usr/sbin/munged
    pgrep -x slurmctld >/dev/null || slurmctld
    pgrep -x slurmd >/dev/null || slurmd
    for _ in $(seq 1 60); do
        if sinfo -h -N -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
            sinfo
            return 0
        fi
        scontrol update nodename="$HOST" state=resume >/dev/null 2>&1 || true
        sleep 1
    done
    echo "slurm did not come up; logs in $LOGDIR" >&2
    sinfo >&2 || true
    tail -n 20 "$LOGDIR"/*.log >&2 || true
    return 1
}

stop() {
    for d in slurmd slurmctld munged; do
        pkill -x "$d" 2>/dev/null && echo "stopped $d" || true
    done
}

exp_bin() {
    if [ -n "${EXP:-}" ]; then echo "$EXP"; return; fi
    local t="${CARGO_TARGET_DIR:-target}"
    for p in "$t/release/exp" "$t/debug/exp"; do
        if [ -x "$p" ]; then realpath "$p"; return; fi
    done
    echo "build exp first (cargo build -p vigil-exp) or set EXP=/path/to/exp" >&2
    exit 1
}

smoke() {
    start
    local exp out cfg job
    exp=$(exp_bin)
    out=${OUT:-runs/slurm-smoke}
    cfg=experiments/scripted-baselines-opensec/cpu.toml
    rm -rf "$out"
    echo "== $exp sweep $cfg --backend slurm --set eval.limit=4 --out $out"
    "$exp" sweep "$cfg" --backend slurm --set eval.limit=4 --out "$out"
    bash -n "$out/slurm/array.sbatch"
    job=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[-1]["job_id"])' "$out/slurm/submitted.json")
    echo "== waiting for job array $job"
    for _ in $(seq 1 600); do
        if [ -z "$(squeue -h -j "$job" 2>/dev/null)" ]; then break; fi
        sleep 1
    done
    squeue -j "$job" 2>/dev/null || true
    echo "== $exp sweep $cfg --set eval.limit=4 --out $out --collect"
    "$exp" sweep "$cfg" --set eval.limit=4 --out "$out" --collect | tee "$out/collect.txt"
    ls "$out/slurm"
    if grep -q ' failed\| pending\| running' "$out/collect.txt"; then
        echo "FAILED: not every point finished" >&2
        cat "$out"/slurm/*.log >&2 || true
        return 1
    fi
    echo "== second submission: nothing left to run"
    "$exp" sweep "$cfg" --backend slurm --set eval.limit=4 --out "$out" | tail -n 1
    echo "slurm smoke sweep OK"
}

case "${1:-smoke}" in
    start) start ;;
    stop) stop ;;
    smoke) smoke ;;
    *) echo "usage: $0 start|smoke|stop" >&2; exit 2 ;;
esac
