#!/usr/bin/env bash
# A one-node Slurm on this machine, for trying the driver (and its test): munge, slurmctld and
# slurmd as root, no cgroups, one partition `debug` holding this machine. Installs Debian's
# slurm-wlm and munge if they are missing. Its state lives in $MORAVEC_SLURM (default
# /tmp/moravec-slurm); `scripts/slurm/stop-local.sh` stops it.
set -euo pipefail
state=${MORAVEC_SLURM:-/tmp/moravec-slurm}
if ! command -v slurmctld >/dev/null || ! command -v munged >/dev/null; then
  sudo=$(command -v sudo || true)
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
    slurm-wlm munge >/dev/null
fi
mkdir -p "$state"/{spool,ctld,log} /run/munge /etc/slurm
chown munge:munge /run/munge 2>/dev/null || true
[ -s /etc/munge/munge.key ] || mungekey --create >/dev/null
# munged warns about its log folder and may exit non-zero once it has forked: check it runs.
pgrep -x munged >/dev/null || munged --force || pgrep -x munged >/dev/null
host=$(hostname -s)
cpus=$(nproc)
mem=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 - 1024 ))
cat > /etc/slurm/slurm.conf <<CONF
ClusterName=moravec
SlurmctldHost=$host
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
ReturnToService=2
StateSaveLocation=$state/ctld
SlurmdSpoolDir=$state/spool
SlurmctldPidFile=$state/slurmctld.pid
SlurmdPidFile=$state/slurmd.pid
SlurmctldLogFile=$state/log/slurmctld.log
SlurmdLogFile=$state/log/slurmd.log
MpiDefault=none
NodeName=$host NodeAddr=127.0.0.1 CPUs=$cpus RealMemory=$mem State=UNKNOWN
PartitionName=debug Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
# No cgroup.conf: Slurm 22.05 then does without cgroups (proctrack/linuxproc, task/none).
rm -f /etc/slurm/cgroup.conf
pgrep -x slurmctld >/dev/null || slurmctld || true
pgrep -x slurmd >/dev/null || slurmd || true
for _ in $(seq 60); do
  if sinfo -h -o %T 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
    sinfo
    exit 0
  fi
  sleep 1
done
echo "slurm did not come up; logs in $state/log" >&2
exit 1
