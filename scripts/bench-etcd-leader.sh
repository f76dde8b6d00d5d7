#!/usr/bin/env bash
# bench-etcd-leader: etcd's clients spread over its endpoints (A) against the same clients sent
# to its leader's endpoint alone (B), one 3-member etcd cluster, alternating rounds, the ratio
# table A/B. cellmap-bench writes to cellmap's leader (client.Config.LeaderWrites) while
# etcd's client balances over the endpoints; this measures what leader routing would give etcd.
#
#   scripts/bench-etcd-leader.sh                        # create at 64 clients, 3 rounds of 10 s
#   WORKLOAD=mixed CLIENTS=16 ROUNDS=5 scripts/bench-etcd-leader.sh
#
# Knobs: WORKLOAD, CLIENTS, KEYS (preloaded for workloads that read), ROUNDS, DURATION, ETCD (as
# in bench-compare.sh), BIN (prebuilt etcd-bench and cellmap-bench).
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh
: "${KEYS:=100000}" "${ROUNDS:=3}" "${DURATION:=10s}" "${WORKLOAD:=create}" "${CLIENTS:=64}"
bench_setup
ensure_etcd
OUT=${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/etcd-leader.XXXXXX")}
start_etcd 3
pids=$(IFS=,; echo "${ETCD_PIDS[*]}")

# leader: the endpoint whose member is the leader (etcd's gRPC gateway, maintenance status).
leader=""
for e in ${ETCD_ENDPOINTS//,/ }; do
	st=$(curl -s -X POST "http://$e/v3/maintenance/status" -d '{}')
	self=$(grep -o '"member_id":"[0-9]*"' <<<"$st" | head -1 | cut -d'"' -f4)
	lead=$(grep -o '"leader":"[0-9]*"' <<<"$st" | cut -d'"' -f4)
	if [[ -n $self && $self == "$lead" ]]; then leader=$e; fi
done
[[ -n $leader ]] || die "no etcd leader found at $ETCD_ENDPOINTS"
log "etcd $ETCD_VERSION leader at $leader; load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
common=(--keys "$KEYS" --value-size 36 --seed 1 --server-pids "$pids")
[[ $WORKLOAD == create || $WORKLOAD == bulk ]] ||
	"$BIN/etcd-bench" --endpoints "$ETCD_ENDPOINTS" --workload bulk --concurrency 4 --count "$KEYS" --batch-size 1000 --duration 0 "${common[@]}" >/dev/null
for round in $(seq 1 "$ROUNDS"); do
	for side in a b; do
		ep=$ETCD_ENDPOINTS
		[[ $side == a ]] || ep=$leader
		log "$side r$round"
		"$BIN/etcd-bench" --endpoints "$ep" --workload "$WORKLOAD" --concurrency "$CLIENTS" "${common[@]}" --duration "$DURATION" \
			--warmup 2s --target-name "$side" --label "r$round" --out "$OUT/$side-$WORKLOAD-c$CLIENTS-r$round.json" |
			grep -E '^ +all |^elapsed' >&2 || true
	done
done
log "load average after the rounds: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "a: etcd's client over all endpoints; b: the leader's endpoint alone"
"$BIN/cellmap-bench" compare --a a --b b "$OUT"
