#!/usr/bin/env bash
# A one-node SLURM cluster on loopback for the tests: munge, slurmctld and slurmd, with the
# configuration, state, logs and pid files under DIR. Needs root and Debian's slurmctld,
# slurmd, slurm-client and munge.
#   slurm-cluster.sh start DIR   # prints the SLURM_CONF path once the node is idle
#   slurm-cluster.sh stop DIR    # stops what start started, by pid file
set -euo pipefail
cmd=${1:?start or stop}
dir=$(realpath -m "${2:?DIR}")
conf="$dir/slurm.conf"

stop_pidfile() {
    local pidfile=$1
    [ -f "$pidfile" ] || return 0
    local pid
    pid=$(cat "$pidfile")
    if kill "$pid" 2>/dev/null; then
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    fi
    rm -f "$pidfile"
}

case "$cmd" in
start)
    mkdir -p "$dir/ctld" "$dir/d" "$dir/log"
    cat > "$conf" <<CONF
ClusterName=dalesweep-test
SlurmctldHost=localhost(127.0.0.1)
CommunicationParameters=NoCtldInAddrAny,NoInAddrAny
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
CredType=cred/munge
StateSaveLocation=$dir/ctld
SlurmdSpoolDir=$dir/d
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
SchedulerType=sched/backfill
SchedulerParameters=batch_sched_delay=0,sched_min_interval=0
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
MpiDefault=none
NodeName=localhost NodeAddr=127.0.0.1 CPUs=$(nproc) State=UNKNOWN
PartitionName=debug Nodes=localhost Default=YES MaxTime=INFINITE State=UP
CONF
    if [ ! -S /run/munge/munge.socket.2 ] || ! munge -n >/dev/null 2>&1; then
        mkdir -p /run/munge /var/lib/munge /var/log/munge
        chown munge:munge /run/munge /var/lib/munge /var/log/munge
        if [ ! -s /etc/munge/munge.key ]; then
            dd if=/dev/urandom bs=1 count=1024 of=/etc/munge/munge.key status=none
            chown munge:munge /etc/munge/munge.key
            chmod 400 /etc/munge/munge.key
        fi
        runuser -u munge -- /usr/sbin/munged --pid-file=/run/munge/munged.pid
        cp /run/munge/munged.pid "$dir/munged.pid"
    fi
    export SLURM_CONF=$conf
    /usr/sbin/slurmctld -c -i -f "$conf"
    /usr/sbin/slurmd -N localhost -f "$conf"
    for _ in $(seq 300); do
        state=$(sinfo -h -o %T 2>/dev/null || true)
        if [ "$state" = idle ]; then
            echo "$conf"
            exit 0
        fi
        sleep 0.1
    done
    echo "the SLURM node did not become idle in 30 s (state: ${state:-none}); logs in $dir/log" >&2
    exit 1
    ;;
stop)
    stop_pidfile "$dir/slurmd.pid"
    stop_pidfile "$dir/slurmctld.pid"
    stop_pidfile "$dir/munged.pid"
    ;;
*)
    echo "usage: $0 start|stop DIR" >&2
    exit 2
    ;;
esac
