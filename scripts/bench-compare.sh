#!/usr/bin/env bash
# bench-compare: cellmap against etcd on this machine, side by side.
#
# Starts a 3-node etcd (fsync on, its defaults) and a 3-node cellmap (raft profile lan, fsync
# on) on 127.0.0.1, loads the same key space into both through transactions, then runs every
# workload against both alternately (cellmap, etcd, cellmap, etcd, ...) with the same clients,
# key space and value size, and prints one table of ratios cellmap/etcd from the medians of the
# rounds, with the etcd version and the load average. Everything it started is stopped on exit,
# failure or Ctrl-C.
#
#   scripts/bench-compare.sh            # ~10 min: 10 s runs, 2 rounds, 100,000 keys
#   QUICK=1 scripts/bench-compare.sh    # ~3 min: 2 s runs, 2 rounds, 20,000 keys
#   ETCD=debian scripts/bench-compare.sh
#   SECURE=1 scripts/bench-compare.sh   # both with TLS and authentication, plus the cost of
#                                       # security inside cellmap (a plaintext cellmap alongside)
#
# SECURE=1: one CA (cellmapctl tls) signs every node's certificate. cellmap serves its API and
# raft port with TLS and the clients send an operator token; etcd serves its client and peer URLs
# with TLS (peers verify each other) and `auth enable` is on, with a user whose role may read and
# write the mappings' prefix. A third, plaintext cellmap cluster runs SECURE_COST (default
# lookup:64 create:64) in the same rounds, and a second table gives secure/plaintext cellmap
# (tokens cannot be turned off, so the plaintext cluster checks its admin token too: the
# difference is TLS and the role checks of an operator token).
#
# Knobs (environment): MATRIX, ROUNDS, DURATION, WARMUP, KEYS, VALUE_SIZE, OUT (results dir, kept),
# KEEP=1 (keep data dirs and logs), BIN (prebuilt binaries), ETCD: which etcd server —
# unset: the newest etcd built from the Go module proxy (nested module bench/etcd/server, version
# pinned in its go.mod); ETCD=debian: Debian's etcd-server (3.4, installed when missing), the
# anchor of the earlier runs; ETCD=/path/to/etcd: that binary.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh

if [[ "${QUICK:-0}" == 1 ]]; then
	: "${DURATION:=2s}" "${WARMUP:=500ms}" "${KEYS:=20000}"
else
	: "${DURATION:=10s}" "${WARMUP:=1s}" "${KEYS:=100000}"
fi
: "${ROUNDS:=2}" "${VALUE_SIZE:=36}"
(( ROUNDS >= 2 )) || die "ROUNDS must be at least 2"

# workload:clients pairs, in report order (MATRIX="create:1 create:64" runs only those).
read -r -a MATRIX <<<"${MATRIX:-lookup:1 lookup:16 lookup:64 lookup-stale:1 lookup-stale:16 lookup-stale:64 create:1 create:16 create:64 cas:64 mixed:16 mixed:64}"

SECURE=${SECURE:-0}
read -r -a COST <<<"${SECURE_COST:-lookup:64 create:64}"

bench_setup
OUT=${OUT:-$(mktemp -d "${TMPDIR:-/tmp}/cellmap-bench-results.XXXXXX")}
mkdir -p "$OUT"
build_bench
ensure_etcd
log "etcd $ETCD_VERSION ($ETCD_BIN); load average (1/5/15 min) now: $(cut -d' ' -f1-3 /proc/loadavg)"
ETCD_SEC=() TARGETS=(cellmap etcd)
if [[ $SECURE == 1 ]]; then
	mkdir -p "$OUT/cost"
	CLUSTER_NAME=cellmap-plain start_cellmap 3
	PLAIN_ENDPOINTS=$CELLMAP_ENDPOINTS PLAIN_PIDS=("${CELLMAP_PIDS[@]}")
	TLS_DIR=$BENCH_TMP/tls
	make_pki "$TLS_DIR" 3
	secure_etcd
	start_cellmap 3
	secure_cellmap
	TARGETS+=(cellmap-plain)
else
	start_etcd 3
	start_cellmap 3
	CELLMAP_SEC=(--token-file "$(admin_token_file)")
fi

common=(--keys "$KEYS" --value-size "$VALUE_SIZE" --seed 1)
run_one() { # target workload clients label extra...
	local target=$1 workload=$2 clients=$3 label=$4 bin endpoints sec=() out_file
	shift 4
	local pids
	out_file=$OUT/$target-$workload-c$clients-$label.json
	case $target in
	cellmap) bin=$BIN/cellmap-bench endpoints=$CELLMAP_ENDPOINTS pids=$(IFS=,; echo "${CELLMAP_PIDS[*]}") sec=("${CELLMAP_SEC[@]}") ;;
	cellmap-plain)
		bin=$BIN/cellmap-bench endpoints=$PLAIN_ENDPOINTS pids=$(IFS=,; echo "${PLAIN_PIDS[*]}")
		sec=(--target-name cellmap-plain --token-file "$(admin_token_file)")
		[[ $label == load ]] || out_file=$OUT/cost/$target-$workload-c$clients-$label.json # the cost table compares rounds only
		;;
	*) bin=$BIN/etcd-bench endpoints=$ETCD_ENDPOINTS pids=$(IFS=,; echo "${ETCD_PIDS[*]}") sec=("${ETCD_SEC[@]}") ;;
	esac
	local out
	out=$("$bin" --endpoints "$endpoints" --workload "$workload" --concurrency "$clients" "${common[@]}" --server-pids "$pids" \
		--label "$label" --out "$out_file" "${sec[@]}" "$@") ||
		die "$target $workload at $clients clients failed: $out"
	grep -E '^ +all |^elapsed|^errors|e\.g\.' <<<"$out" | sed "s/^/    /" >&2 || true
}

# costed PAIR: whether the plaintext cellmap runs this workload:clients pair too (SECURE=1).
costed() {
	local c
	for c in "${COST[@]}"; do [[ $c == "$1" ]] && return 0; done
	return 1
}

log "loading $KEYS mappings into each (transactions of 1000, 4 in flight)"
for target in "${TARGETS[@]}"; do
	log "$target"
	run_one "$target" bulk 4 load --count "$KEYS" --batch-size 1000 --duration 0
done

load_before=$(cut -d' ' -f1-3 /proc/loadavg)
log "running ${#MATRIX[@]} workloads x 2 targets x $ROUNDS rounds ($DURATION each after $WARMUP warmup)"
for pair in "${MATRIX[@]}"; do
	workload=${pair%%:*} clients=${pair##*:}
	for round in $(seq 1 "$ROUNDS"); do
		for target in "${TARGETS[@]}"; do
			[[ $target != cellmap-plain ]] || costed "$pair" || continue
			log "$workload, $clients clients, round $round: $target"
			run_one "$target" "$workload" "$clients" "r$round" --duration "$DURATION" --warmup "$WARMUP"
			[[ $target != cellmap ]] || ! costed "$pair" || [[ $SECURE != 1 ]] ||
				cp "$OUT/cellmap-$workload-c$clients-r$round.json" "$OUT/cost/"
		done
	done
done

load_after=$(cut -d' ' -f1-3 /proc/loadavg)
echo
security="plaintext, no authentication"
[[ $SECURE != 1 ]] || security="TLS (client and peer) and authentication (cellmap: operator token; etcd: auth enable, a user with a prefix role)"
echo "cellmap vs etcd on $(nproc) cores, 3 nodes each on 127.0.0.1, fsync on, $security; $KEYS keys, value $VALUE_SIZE B, $DURATION runs, $ROUNDS rounds (A B A B)"
echo "etcd $ETCD_VERSION ($ETCD_BIN); create = etcd Put vs cellmap PUT If-None-Match; cas = etcd Txn(ModRevision==rev) vs cellmap PUT If-Match"
echo "load average (1/5/15 min) before the runs: $load_before; after: $load_after (other processes share the machine)"
"$BIN/cellmap-bench" compare --a cellmap --b etcd "$OUT"
"$BIN/cellmap-bench" compare --a cellmap --b etcd --json "$OUT" >"$OUT/compare.json"
if [[ $SECURE == 1 ]]; then
	echo
	echo "the cost of security inside cellmap: cellmap with TLS and tokens (A) vs plaintext cellmap (B), same rounds"
	"$BIN/cellmap-bench" compare --a cellmap --b cellmap-plain "$OUT/cost"
	"$BIN/cellmap-bench" compare --a cellmap --b cellmap-plain --json "$OUT/cost" >"$OUT/cost.json"
fi
echo "results: $OUT"
