#!/usr/bin/env bash
# bench-profile: CPU and allocation profiles of cellmapd under the lookup and create workloads.
#
# Starts a 3-node cellmap (raft profile lan, fsync on) with --pprof-addr on every node, loads
# KEYS mappings, then for each workload runs cellmap-bench (64 clients over the 3 nodes) while
# it takes a CPU profile and an allocation profile (delta over the same window) of the leader
# and of a follower, and prints `go tool pprof -top` of each. Profiles are kept in OUT.
#
#   scripts/bench-profile.sh            # lookup and create, 15 s windows
#   WORKLOADS="lookup-stale" SECONDS_PER_PROFILE=10 scripts/bench-profile.sh
#   WORKLOADS=create ROLES=leader KINDS=cpu NODECOUNT=15 scripts/bench-profile.sh   # make bench-write-profile
#
# Knobs (environment): WORKLOADS, CLIENTS, KEYS, SECONDS_PER_PROFILE, NODECOUNT (lines per
# table), ROLES ("leader follower"), KINDS ("cpu allocs"), OUT (profiles dir, kept), BIN.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh
: "${KEYS:=100000}" "${CLIENTS:=64}" "${SECONDS_PER_PROFILE:=15}" "${WORKLOADS:=lookup create}" "${NODECOUNT:=30}" \
	"${ROLES:=leader follower}" "${KINDS:=cpu allocs}"
bench_setup
OUT=${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/cellmap-profile.XXXXXX")}
mkdir -p "$OUT"
build_bench

PPROF=()
for i in 1 2 3; do PPROF+=(127.0.0.1:$(free_port)); done
# start_cellmap passes extra flags to every node; give each its own pprof port.
start_cellmap_pprof() {
	local i http raft gossip first="" dir token
	token=$(admin_token_file)
	CELLMAP_ENDPOINTS="" HTTPS=()
	for i in 1 2 3; do
		http=127.0.0.1:$(free_port) raft=127.0.0.1:$(free_port) gossip=127.0.0.1:$(free_port)
		dir=$BENCH_TMP/cellmap/n$i
		mkdir -p "$dir"
		local args=(--node-id "n$i" --data-dir "$dir" --http-addr "$http" --raft-addr "$raft" --gossip-addr "$gossip"
			--raft-profile lan --log-level warn --pprof-addr "${PPROF[$((i - 1))]}" --acl-bootstrap-token-file "$token")
		if [[ -z "$first" ]]; then
			"$BIN/cellmapd" "${args[@]}" --bootstrap >"$dir.log" 2>&1 &
			BENCH_PIDS+=($!)
			first=$http
			"$BIN/cellmap-bench" wait --endpoints "$first" --timeout 60s --token-file "$token"
		else
			"$BIN/cellmapd" "${args[@]}" --join "$first" >"$dir.log" 2>&1 &
			BENCH_PIDS+=($!)
		fi
		HTTPS+=("$http")
		CELLMAP_ENDPOINTS=${CELLMAP_ENDPOINTS:+$CELLMAP_ENDPOINTS,}$http
	done
	"$BIN/cellmap-bench" wait --endpoints "$CELLMAP_ENDPOINTS" --voters 3 --timeout 90s --token-file "$token"
}
start_cellmap_pprof

# pprof_top PROFILE [pprof flags...]: the profile's duration and total, then the column header
# and the top NODECOUNT rows of `go tool pprof -top`.
pprof_top() {
	local profile=$1
	shift
	go tool pprof -top -nodecount="$NODECOUNT" "$@" "$BIN/cellmapd" "$profile" 2>/dev/null |
		awk -v n="$NODECOUNT" '/^Duration:/ { print } /^ +flat +flat%/ { rows = 1; print; next } rows && rows++ <= n { print }'
}

leader_index() {
	local i
	for i in 0 1 2; do
		if curl -s -H "Authorization: Bearer $(cat "$(admin_token_file)")" "http://${HTTPS[$i]}/v1/cluster/status" | grep -q '"state": *"Leader"'; then
			echo "$i"
			return
		fi
	done
	echo 0
}
L=$(leader_index) F=$(((L + 1) % 3))
log "leader n$((L + 1)) (pprof ${PPROF[$L]}), follower n$((F + 1)) (pprof ${PPROF[$F]})"
"$BIN/cellmap-bench" --endpoints "$CELLMAP_ENDPOINTS" --workload bulk --count "$KEYS" --keys "$KEYS" --concurrency 4 --token-file "$(admin_token_file)" | tail -1

for w in $WORKLOADS; do
	log "$w: $CLIENTS clients for $((SECONDS_PER_PROFILE + 4)) s; profiling ${SECONDS_PER_PROFILE} s"
	"$BIN/cellmap-bench" --endpoints "$CELLMAP_ENDPOINTS" --workload "$w" --keys "$KEYS" --concurrency "$CLIENTS" --token-file "$(admin_token_file)" \
		--duration "$((SECONDS_PER_PROFILE + 4))s" --out "$OUT/$w-result.json" >"$OUT/$w-result.txt" &
	bench_pid=$!
	sleep 2
	curls=()
	for role in $ROLES; do
		idx=$L
		[[ $role == follower ]] && idx=$F
		if [[ " $KINDS " == *" cpu "* ]]; then
			curl -s -o "$OUT/$w-$role-cpu.pb.gz" "http://${PPROF[$idx]}/debug/pprof/profile?seconds=$SECONDS_PER_PROFILE" &
			curls+=($!)
		fi
		if [[ " $KINDS " == *" allocs "* ]]; then
			curl -s -o "$OUT/$w-$role-allocs.pb.gz" "http://${PPROF[$idx]}/debug/pprof/allocs?seconds=$SECONDS_PER_PROFILE" &
			curls+=($!)
		fi
	done
	wait "$bench_pid" "${curls[@]}"
	cat "$OUT/$w-result.txt"
	log "load average (1/5/15 min): $(cut -d' ' -f1-3 /proc/loadavg)"
	for role in $ROLES; do
		if [[ " $KINDS " == *" cpu "* ]]; then
			echo "== $w, $role: CPU (top $NODECOUNT by flat, then by cum) =="
			pprof_top "$OUT/$w-$role-cpu.pb.gz"
			pprof_top "$OUT/$w-$role-cpu.pb.gz" -cum
		fi
		if [[ " $KINDS " == *" allocs "* ]]; then
			echo "== $w, $role: allocations over the window (alloc_space, top $NODECOUNT) =="
			pprof_top "$OUT/$w-$role-allocs.pb.gz" -sample_index=alloc_space
		fi
	done
done
echo "profiles: $OUT"
