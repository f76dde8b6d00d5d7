#!/usr/bin/env bash
# bench-ab: two cellmapd builds (or settings) side by side, each a 3-node cluster on 127.0.0.1,
# the same workload in alternating rounds (A B A B ...), and the table of ratios A/B. What a
# change to the write path buys, measured on a shared machine where absolute figures move.
#
#   BIN_A=/tmp/new BIN_B=/tmp/old scripts/bench-ab.sh
#   BIN_A=/tmp/gogc800 BIN_B=/tmp/new WORKLOAD=create CLIENTS=64 ROUNDS=3 scripts/bench-ab.sh
#
# BIN_A and BIN_B hold cellmapd, cellmap-bench and cellmapctl (BIN_A's cellmap-bench drives
# both); cellmapd may be a wrapper script that execs the real one (e.g. with GOGC set), so its
# pid stays the server's. LEADER_ONLY=1 adds a third target, cluster A driven through its
# leader's endpoint only (cellmap-bench otherwise spreads its clients over all nodes). At the
# end it prints every node's peak RSS. ARGS_A and ARGS_B are more cellmap-bench flags of each
# side's rounds, e.g. the client's write routing on one build:
#   BIN_A=bin BIN_B=bin ARGS_B="--route-writes any" scripts/bench-ab.sh
# Knobs: WORKLOAD, CLIENTS, KEYS, ROUNDS, DURATION, OUT, ARGS_A, ARGS_B.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh
: "${KEYS:=100000}" "${ROUNDS:=3}" "${DURATION:=10s}" "${WORKLOAD:=create}" "${CLIENTS:=64}"
: "${BIN_A:?BIN_A: directory of the A build}" "${BIN_B:?BIN_B: directory of the B build}"
bench_setup
OUT=${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/cellmap-ab.XXXXXX")}
mkdir -p "$OUT"
BIN=$BIN_A CLUSTER_NAME=a start_cellmap 3
A_EP=$CELLMAP_ENDPOINTS A_PIDS=$(IFS=,; echo "${CELLMAP_PIDS[*]}")
BIN=$BIN_B CLUSTER_NAME=b start_cellmap 3
B_EP=$CELLMAP_ENDPOINTS B_PIDS=$(IFS=,; echo "${CELLMAP_PIDS[*]}")
BIN=$BIN_A
token=$(admin_token_file)

# leader_of ENDPOINTS: the endpoint whose node leads.
leader_of() {
	local e
	for e in ${1//,/ }; do
		if curl -s -H "Authorization: Bearer $(cat "$token")" "http://$e/v1/cluster/status" | grep -q '"state": *"Leader"'; then
			echo "$e"
			return
		fi
	done
	die "no leader among $1"
}

# run NAME ENDPOINTS PIDS LABEL [extra cellmap-bench flags]
run() {
	local name=$1 ep=$2 pids=$3 label=$4
	shift 4
	log "$name $label"
	"$BIN/cellmap-bench" --endpoints "$ep" --workload "$WORKLOAD" --concurrency "$CLIENTS" --keys "$KEYS" --seed 1 \
		--server-pids "$pids" --target-name "$name" --label "$label" --out "$OUT/$name-$WORKLOAD-c$CLIENTS-$label.json" \
		--token-file "$token" "$@" | grep -E '^ +all |^elapsed' >&2
}

run a "$A_EP" "$A_PIDS" load --workload bulk --count "$KEYS" --batch-size 1000 --concurrency 4 --duration 0
run b "$B_EP" "$B_PIDS" load --workload bulk --count "$KEYS" --batch-size 1000 --concurrency 4 --duration 0
A_LEADER=$(leader_of "$A_EP")
log "load average (1/5/15 min) before the rounds: $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq 1 "$ROUNDS"); do
	# shellcheck disable=SC2086 # ARGS_A and ARGS_B are lists of flags
	run a "$A_EP" "$A_PIDS" "r$r" --duration "$DURATION" --warmup 1s ${ARGS_A:-}
	# shellcheck disable=SC2086
	run b "$B_EP" "$B_PIDS" "r$r" --duration "$DURATION" --warmup 1s ${ARGS_B:-}
	[[ "${LEADER_ONLY:-0}" != 1 ]] || run a-leader "$A_LEADER" "$A_PIDS" "r$r" --duration "$DURATION" --warmup 1s
done
log "load average (1/5/15 min) after the rounds: $(cut -d' ' -f1-3 /proc/loadavg)"
for side in a b; do
	pids=$A_PIDS
	[[ $side == a ]] || pids=$B_PIDS
	for p in ${pids//,/ }; do log "$side: pid $p peak RSS $(awk '/VmHWM/ { print $2 " " $3 }' "/proc/$p/status")"; done
done
"$BIN/cellmap-bench" compare --a a --b b "$OUT"
[[ "${LEADER_ONLY:-0}" != 1 ]] || "$BIN/cellmap-bench" compare --a a-leader --b a "$OUT"
echo "results: $OUT"
