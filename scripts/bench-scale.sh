#!/usr/bin/env bash
# bench-scale: 1,000,000 instance mappings in a local 3-node cellmap cluster (raft profile lan,
# fsync on). Prints, from one run: load time through /v1/txn, fsm.db / raft.db / snapshots
# sizes and RSS per node, lookups on the loaded cluster, time for a node killed with SIGKILL
# and restarted on its data to serve a linearizable read (a follower, then the leader), the
# snapshots raft took and how long they took, and how long a follower that fell behind the
# leader's compacted log takes to install the snapshot and equal the leader's state.
#
#   scripts/bench-scale.sh                      # 1,000,000 mappings (~5 min)
#   MAPPINGS=200000 scripts/bench-scale.sh      # smaller
#   scripts/bench-scale.sh --json --out r.json  # extra flags go to `cellmap-bench scale`
#
# cellmap-bench scale starts and stops the cluster itself (also on failure or Ctrl-C).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh
bench_setup
build_bench
"$BIN/cellmap-bench" scale --cellmapd "$BIN/cellmapd" --dir "$BENCH_TMP/cluster" \
	--mappings "${MAPPINGS:-1000000}" --batch-size "${BATCH_SIZE:-1000}" --concurrency "${CONCURRENCY:-4}" \
	--timeout "${TIMEOUT:-25m}" "$@"
