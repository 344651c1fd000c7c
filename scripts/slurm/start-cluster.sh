#!/usr/bin/env bash
# Start a one-node Slurm cluster (munged + slurmctld + slurmd) with its state in a temp dir.
# Usage: scripts/slurm/start-cluster.sh [STATE_DIR]   (default: $TMPDIR/ecaf-slurm)
# Prints `export SLURM_CONF=...` lines; sbatch/squeue/scancel then talk to this cluster.
# Stop it with scripts/slurm/stop-cluster.sh STATE_DIR.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
state="${1:-${TMPDIR:-/tmp}/ecaf-slurm}"
mkdir -p "$state"/{munge,ctld,slurmd}
state="$(cd "$state" && pwd)"
conf="$state/slurm.conf"
export SLURM_CONF="$conf"
if [ -f "$state/slurmctld.pid" ] && scontrol ping 2>/dev/null | grep -q 'is UP'; then
  echo "export SLURM_CONF=$conf"
  exit 0
fi
host="$(hostname -s)"
cpus="$(nproc)"
mem="$(awk '/MemTotal/ {print int($2 / 1024 * 0.8)}' /proc/meminfo)"
ctld_port="${ECAF_SLURMCTLD_PORT:-6917}"
slurmd_port="${ECAF_SLURMD_PORT:-6918}"
sed -e "s|@HOST@|$host|g" -e "s|@NODE@|$host|g" -e "s|@STATE@|$state|g" -e "s|@USER@|$(id -un)|g" \
    -e "s|@CPUS@|$cpus|g" -e "s|@MEM@|$mem|g" -e "s|@CTLD_PORT@|$ctld_port|g" -e "s|@SLURMD_PORT@|$slurmd_port|g" \
    "$here/slurm.conf.in" > "$conf"
: > "$state/plugstack.conf"
# munge: a fresh key only this cluster uses
if [ ! -f "$state/munge/munge.key" ]; then
  dd if=/dev/urandom of="$state/munge/munge.key" bs=1024 count=1 status=none
fi
chmod 700 "$state/munge"
chmod 400 "$state/munge/munge.key"
if ! { [ -f "$state/munge/munged.pid" ] && kill -0 "$(cat "$state/munge/munged.pid")" 2>/dev/null; }; then
  rm -f "$state/munge/munge.socket" "$state/munge/munge.socket.lock"
  munged --force --key-file="$state/munge/munge.key" --socket="$state/munge/munge.socket" \
    --pid-file="$state/munge/munged.pid" --log-file="$state/munge/munged.log" --seed-file="$state/munge/munged.seed"
fi
slurmctld -f "$conf" -c -i 2>>"$state/start.log" || slurmctld -f "$conf" -c 2>>"$state/start.log"
slurmd -f "$conf" -N "$host" 2>>"$state/start.log"
for _ in $(seq 1 60); do
  if sinfo -h -o '%T' 2>/dev/null | grep -qE '^(idle|mixed|allocated)'; then
    echo "export SLURM_CONF=$conf"
    exit 0
  fi
  scontrol update nodename="$host" state=resume >/dev/null 2>&1 || true
  sleep 0.5
done
echo "slurm did not come up; see $state/*.log" >&2
tail -n 20 "$state"/slurmctld.log "$state"/slurmd.log "$state"/start.log >&2 || true
exit 1
