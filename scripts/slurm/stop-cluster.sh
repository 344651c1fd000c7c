#!/usr/bin/env bash
# Stop the cluster start-cluster.sh started in STATE_DIR (its daemons only, by their pid files).
set -uo pipefail
state="${1:-${TMPDIR:-/tmp}/ecaf-slurm}"
for pidfile in "$state/slurmd.pid" "$state/slurmctld.pid" "$state/munge/munged.pid"; do
  [ -f "$pidfile" ] || continue
  pid="$(cat "$pidfile")"
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.25; done
  rm -f "$pidfile"
done
