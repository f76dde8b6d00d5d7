#!/usr/bin/env bash
# bench-list: the cross-cell server listing (GET /v1/servers through cellproxy) on a populated
# cloud. Starts a --dev cellmapd (cell0 and cell1 with its conductor in the process) and a
# second cell's cellconductor on 127.0.0.1, maps cell2, creates SERVERS servers over 10
# projects (what fits goes to cell1 and cell2, the rest is buried in cell0), waits until none
# is building, then runs cellmap-bench's list workload: all tenants and one project, at 1 and
# 16 clients, pages of LIMIT. Everything it started is stopped on exit, failure or Ctrl-C.
#
#   scripts/bench-list.sh                     # 1,000 servers, 10 s runs (~1 min)
#   SERVERS=300 DURATION=3s scripts/bench-list.sh
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=scripts/bench-lib.sh
source scripts/bench-lib.sh
: "${SERVERS:=1000}" "${DURATION:=10s}" "${LIMIT:=100}"

bench_setup
BIN=${BIN:-$BENCH_TMP/bin}
if [[ ! -x "$BIN/cellmapd" || ! -x "$BIN/cellmap-bench" || ! -x "$BIN/cellconductor" || ! -x "$BIN/cellmapctl" ]]; then
	mkdir -p "$BIN"
	log "building into $BIN"
	go build -o "$BIN/" ./cmd/cellmapd ./cmd/cellmap-bench ./cmd/cellconductor ./cmd/cellmapctl
fi

http=127.0.0.1:$(free_port)
gossip=127.0.0.1:$(free_port)
"$BIN/cellmapd" --dev --data-dir "$BENCH_TMP/node" --http-addr "$http" --raft-addr "127.0.0.1:$(free_port)" \
	--gossip-addr "$gossip" --dev-conductor-addr "127.0.0.1:$(free_port)" \
	--dev-conductor-gossip-addr "127.0.0.1:$(free_port)" >"$BENCH_TMP/cellmapd.log" 2>&1 &
BENCH_PIDS+=($!)
export CELLMAP_ADDR=http://$http CELLMAP_TOKEN_FILE=$BENCH_TMP/node/dev-admin-token
auth() { echo "Authorization: Bearer $(cat "$CELLMAP_TOKEN_FILE")"; }
for i in $(seq 1 300); do
	curl -sf "$CELLMAP_ADDR/readyz" >/dev/null && "$BIN/cellmapctl" cell_v2 list_hosts 2>/dev/null | grep -q compute3 && break
	(( i < 300 )) || die "cellmapd --dev did not become ready (see $BENCH_TMP/cellmapd.log)"
	sleep 0.1
done

cell2=6e4f0000-0000-4000-8000-0000000000c2
c2http=127.0.0.1:$(free_port)
"$BIN/cellconductor" --cell-uuid "$cell2" --data-dir "$BENCH_TMP/cell2" --http-addr "$c2http" \
	--gossip-addr "127.0.0.1:$(free_port)" --join "$gossip" \
	--hosts "c2h1:100000:100000000:1000000,c2h2:100000:100000000:1000000" >"$BENCH_TMP/cell2.log" 2>&1 &
BENCH_PIDS+=($!)
# create_cell picks a new uuid, as Nova's does; the API takes the conductor's.
curl -sf -o /dev/null -X POST -H 'Content-Type: application/json' -H "$(auth)" "$CELLMAP_ADDR/v1/cells" \
	-d "{\"uuid\":\"$cell2\",\"name\":\"cell2\",\"transport_url\":\"http://$c2http/\",\"database_connection\":\"bbolt:///$BENCH_TMP/cell2\"}"
for i in $(seq 1 300); do
	"$BIN/cellmapctl" cell_v2 discover_hosts --cell_uuid "$cell2" >/dev/null 2>&1 &&
		"$BIN/cellmapctl" cell_v2 list_hosts 2>/dev/null | grep -q c2h2 && break
	(( i < 300 )) || die "cell2's hosts were not discovered (see $BENCH_TMP/cell2.log)"
	sleep 0.1
done

log "creating $SERVERS servers in 10 projects"
start=$(date +%s.%N)
for i in $(seq 1 "$SERVERS"); do
	printf '{"server":{"name":"vm%d","flavor_ref":"1","image_ref":"cirros","project_id":"bench-p%d","user_id":"u"}}\n' "$i" $((i % 10))
done | xargs -d "\n" -P 8 -I{} curl -sf -o /dev/null -X POST -H 'Content-Type: application/json' -H "$(auth)" -d '{}' "$CELLMAP_ADDR/v1/servers"
log "created in $(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}') s"
for i in $(seq 1 600); do
	building=$(curl -sf -H "$(auth)" "$CELLMAP_ADDR/v1/servers?all_tenants=true&limit=1000" | grep -o '"status":"BUILD"' | wc -l || true)
	[[ "$building" == 0 ]] && break
	(( i < 600 )) || die "$building servers still building after 60 s"
	sleep 0.1
done
"$BIN/cellmapctl" cell_v2 list_cells >&2

for q in "all tenants:" "one project:--list-project bench-p1"; do
	for c in 1 16; do
		log "list, ${q%%:*}, $c clients, pages of $LIMIT"
		# shellcheck disable=SC2086
		"$BIN/cellmap-bench" --workload list --endpoints "$http" --concurrency "$c" --duration "$DURATION" \
			--warmup 1s --list-limit "$LIMIT" --token-file "$CELLMAP_TOKEN_FILE" ${q#*:}
	done
done
