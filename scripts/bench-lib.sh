# shellcheck shell=bash
# Shared helpers of the benchmark scripts: build, local 3-node clusters of cellmapd and etcd on
# 127.0.0.1, and cleanup of every process they started. Source it; it does not run anything.

BENCH_PIDS=()
BENCH_TMP=""

log() { printf '%s %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# free_port prints a free TCP port on 127.0.0.1.
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()' 2>/dev/null ||
		echo $((20000 + RANDOM % 20000))
}

# bench_cleanup stops every process this script started (SIGTERM, then SIGKILL after 10 s) and
# removes the temporary directory unless KEEP=1. Installed as the EXIT/INT/TERM trap.
bench_cleanup() {
	local rc=$? pid
	trap - EXIT INT TERM
	for pid in "${BENCH_PIDS[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${BENCH_PIDS[@]}"; do
		for _ in $(seq 1 100); do
			kill -0 "$pid" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$pid" 2>/dev/null || true
	done
	if [[ -n "$BENCH_TMP" && "${KEEP:-0}" != 1 ]]; then
		rm -rf "$BENCH_TMP"
	elif [[ -n "$BENCH_TMP" ]]; then
		log "kept $BENCH_TMP"
	fi
	exit "$rc"
}

bench_setup() {
	BENCH_TMP=$(mktemp -d "${TMPDIR:-/tmp}/cellmap-bench.XXXXXX")
	trap bench_cleanup EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}

# build_bench builds cellmapd, cellmap-bench and cellmapctl (main module) and etcd-bench (nested module
# bench/etcd) into $BIN; with BIN set to a directory that already holds all three, it uses them.
build_bench() {
	if [[ -n "${BIN:-}" && -x "$BIN/cellmapd" && -x "$BIN/cellmap-bench" && -x "$BIN/cellmapctl" && -x "$BIN/etcd-bench" ]]; then
		log "using the binaries in $BIN"
		return
	fi
	BIN=${BIN:-$BENCH_TMP/bin}
	mkdir -p "$BIN"
	log "building cellmapd, cellmap-bench, cellmapctl and etcd-bench into $BIN"
	go build -o "$BIN/" ./cmd/cellmapd ./cmd/cellmap-bench ./cmd/cellmapctl
	(cd bench/etcd && go build -o "$BIN/etcd-bench" ./cmd/etcd-bench)
}

# ensure_etcd sets ETCD_BIN to the etcd server the comparison runs against, chosen by ETCD:
#   (unset) or "built": the newest etcd, built from the Go module proxy in the nested module
#           bench/etcd/server into $BIN/etcd (the version is pinned in its go.mod);
#   "debian": Debian's etcd-server package (/usr/bin/etcd, 3.4 on bookworm), installed when missing;
#   a path: that etcd binary.
ensure_etcd() {
	case "${ETCD:-built}" in
	built)
		ETCD_BIN=$BIN/etcd
		if [[ ! -x "$ETCD_BIN" ]]; then
			log "building etcd (bench/etcd/server) into $BIN"
			(cd bench/etcd/server && go build -o "$ETCD_BIN" .)
		fi
		;;
	debian)
		ETCD_BIN=/usr/bin/etcd
		[[ -x "$ETCD_BIN" ]] || install_debian_etcd
		;;
	*)
		ETCD_BIN=$ETCD
		[[ -x "$ETCD_BIN" ]] || die "ETCD=$ETCD: not an executable (want built, debian or a path)"
		;;
	esac
	# awk reads every line: head would close the pipe early and, with pipefail, etcd's SIGPIPE
	# would end the script without a word.
	ETCD_VERSION=$("$ETCD_BIN" --version | awk 'NR == 1 {print $3}')
	[[ -n "$ETCD_VERSION" ]] || die "$ETCD_BIN --version printed no version"
}

# install_debian_etcd installs Debian's etcd-server package (binary /usr/bin/etcd).
install_debian_etcd() {
	log "Debian's etcd is missing: installing the etcd-server package"
	local sudo=""
	if [[ $(id -u) != 0 ]]; then
		command -v sudo >/dev/null 2>&1 || die "etcd is missing and neither root nor sudo is available"
		sudo="sudo"
	fi
	# policy-rc.d (Debian's default in containers) keeps the package's own service stopped.
	if ! DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q etcd-server >&2; then
		$sudo apt-get update -q >&2
		DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q etcd-server >&2
	fi
	[[ -x /usr/bin/etcd ]] || die "etcd-server installed but there is no /usr/bin/etcd"
}

# admin_token_file prints the path of the admin token every benchmark cellmap cluster is
# bootstrapped with (--acl-bootstrap-token-file; made with cellmapctl token secret on first use).
admin_token_file() {
	local f=$BENCH_TMP/secrets/cellmap-admin
	if [[ ! -s $f ]]; then
		mkdir -p -m 700 "$BENCH_TMP/secrets"
		(umask 077 && "$BIN/cellmapctl" token secret >"$f") || die "cellmapctl token secret failed"
	fi
	echo "$f"
}

# start_cellmap N [extra cellmapd flags...]: an N-node cellmapd cluster (raft profile lan, fsync
# on). Sets CELLMAP_ENDPOINTS (comma separated), CELLMAP_DIRS and CELLMAP_PIDS (arrays). With
# TLS_DIR set (see make_pki) every node serves TLS with its certificate node-n<i>.pem there;
# CLUSTER_NAME (default cellmap) names the data directory, so that two clusters can run at once.
start_cellmap() {
	local n=$1 i http raft gossip first="" args tls=() wait_sec=() token
	shift
	token=$(admin_token_file)
	CELLMAP_ENDPOINTS="" CELLMAP_DIRS=() CELLMAP_PIDS=()
	wait_sec=(--token-file "$token")
	[[ -z "${TLS_DIR:-}" ]] || wait_sec+=(--ca-cert "$TLS_DIR/cellmap-ca.pem")
	for i in $(seq 1 "$n"); do
		http=127.0.0.1:$(free_port) raft=127.0.0.1:$(free_port) gossip=127.0.0.1:$(free_port)
		local dir=$BENCH_TMP/${CLUSTER_NAME:-cellmap}/n$i
		mkdir -p "$dir"
		[[ -z "${TLS_DIR:-}" ]] || tls=(--tls-cert "$TLS_DIR/node-n$i.pem" --tls-key "$TLS_DIR/node-n$i-key.pem" --tls-ca "$TLS_DIR/cellmap-ca.pem")
		args=(--node-id "n$i" --data-dir "$dir" --http-addr "$http" --raft-addr "$raft" --gossip-addr "$gossip"
			--raft-profile lan --log-level warn --acl-bootstrap-token-file "$token" "${tls[@]}" "$@")
		if [[ -z "$first" ]]; then
			"$BIN/cellmapd" "${args[@]}" --bootstrap >"$dir.log" 2>&1 &
			BENCH_PIDS+=($!) CELLMAP_PIDS+=($!)
			first=$http
			"$BIN/cellmap-bench" wait --endpoints "$first" --voters 1 --timeout 60s "${wait_sec[@]}" || die "cellmap n1 not ready (see $dir.log)"
		else
			"$BIN/cellmapd" "${args[@]}" --join "${TLS_DIR:+https://}$first" >"$dir.log" 2>&1 &
			BENCH_PIDS+=($!) CELLMAP_PIDS+=($!)
		fi
		CELLMAP_DIRS+=("$dir")
		CELLMAP_ENDPOINTS=${CELLMAP_ENDPOINTS:+$CELLMAP_ENDPOINTS,}$http
	done
	"$BIN/cellmap-bench" wait --endpoints "$CELLMAP_ENDPOINTS" --voters "$n" --timeout 90s "${wait_sec[@]}" || die "cellmap cluster not ready"
	log "cellmap${TLS_DIR:+ (TLS)}: $n nodes at $CELLMAP_ENDPOINTS"
}

# make_pki DIR N: a cluster CA and, with cellmapctl tls, node certificates n1..nN (cellmapd) and
# e1..eN (etcd) for 127.0.0.1 in DIR.
make_pki() {
	local dir=$1 n=$2 i
	mkdir -p -m 700 "$dir"
	"$BIN/cellmapctl" tls ca create --dir "$dir" >/dev/null
	for i in $(seq 1 "$n"); do
		"$BIN/cellmapctl" tls cert create --dir "$dir" --node "n$i" --ip 127.0.0.1 >/dev/null
		"$BIN/cellmapctl" tls cert create --dir "$dir" --node "e$i" --ip 127.0.0.1 >/dev/null
	done
}

# start_etcd N: an N-member cluster of $ETCD_BIN (see ensure_etcd; fsync on, etcd's defaults)
# whose transactions may hold 10000 ops, like cellmap's. Sets ETCD_ENDPOINTS and ETCD_PIDS. With
# TLS_DIR set its client and peer URLs serve TLS with the certificates e<i> there (peers verify
# each other; clients authenticate with a user, as cellmap's do with a token).
start_etcd() {
	local n=$1 i cluster="" names=() clients=() peers=() scheme=http tls=() wait_sec=()
	[[ -z "${TLS_DIR:-}" ]] || scheme=https wait_sec=(--ca-cert "$TLS_DIR/cellmap-ca.pem")
	for i in $(seq 1 "$n"); do
		names+=("e$i") clients+=(127.0.0.1:$(free_port)) peers+=(127.0.0.1:$(free_port))
		cluster=${cluster:+$cluster,}e$i=$scheme://${peers[$((i - 1))]}
	done
	ETCD_ENDPOINTS="" ETCD_PIDS=()
	for i in $(seq 0 $((n - 1))); do
		local dir=$BENCH_TMP/etcd/${names[$i]}
		mkdir -p "$dir"
		[[ -z "${TLS_DIR:-}" ]] || tls=(--cert-file "$TLS_DIR/node-${names[$i]}.pem" --key-file "$TLS_DIR/node-${names[$i]}-key.pem"
			--peer-cert-file "$TLS_DIR/node-${names[$i]}.pem" --peer-key-file "$TLS_DIR/node-${names[$i]}-key.pem"
			--peer-trusted-ca-file "$TLS_DIR/cellmap-ca.pem" --peer-client-cert-auth)
		"$ETCD_BIN" --name "${names[$i]}" --data-dir "$dir" \
			--listen-client-urls "$scheme://${clients[$i]}" --advertise-client-urls "$scheme://${clients[$i]}" \
			--listen-peer-urls "$scheme://${peers[$i]}" --initial-advertise-peer-urls "$scheme://${peers[$i]}" \
			--initial-cluster "$cluster" --initial-cluster-state new --initial-cluster-token cellmap-bench \
			--max-txn-ops 10000 --max-request-bytes 10485760 "${tls[@]}" \
			--logger zap --log-level warn --log-outputs "$dir.log" >>"$dir.log" 2>&1 &
		BENCH_PIDS+=($!) ETCD_PIDS+=($!)
		ETCD_ENDPOINTS=${ETCD_ENDPOINTS:+$ETCD_ENDPOINTS,}${clients[$i]}
	done
	"$BIN/etcd-bench" wait --endpoints "$ETCD_ENDPOINTS" --members "$n" --timeout 90s "${wait_sec[@]}" || die "etcd cluster not ready (logs in $BENCH_TMP/etcd)"
	log "etcd $ETCD_VERSION ($ETCD_BIN${TLS_DIR:+, TLS}): $n members at $ETCD_ENDPOINTS"
}

# secure_etcd: start_etcd 3 with TLS (TLS_DIR), then `auth enable` with a root user and the user
# "bench" whose role reads and writes the mappings' prefix. Sets ETCD_SEC (etcd-bench flags).
secure_etcd() {
	local secrets=$BENCH_TMP/secrets
	mkdir -p -m 700 "$secrets"
	head -c 24 /dev/urandom | base64 >"$secrets/etcd-root"
	head -c 24 /dev/urandom | base64 >"$secrets/etcd-bench"
	start_etcd 3
	ETCD_SEC=(--ca-cert "$TLS_DIR/cellmap-ca.pem" --user bench --password-file "$secrets/etcd-bench")
	"$BIN/etcd-bench" auth-setup --endpoint "${ETCD_ENDPOINTS%%,*}" --root-password-file "$secrets/etcd-root" "${ETCD_SEC[@]}" ||
		die "etcd auth setup failed"
	log "etcd: auth enabled, user bench (read-write on the mappings' prefix)"
}

# secure_cellmap: after start_cellmap 3 with TLS_DIR, create the operator token the load
# generator sends (operator: the benchmark maps its cell before it writes) with the admin token
# the cluster was bootstrapped with. Sets CELLMAP_SEC (cellmap-bench flags).
secure_cellmap() {
	local secrets=$BENCH_TMP/secrets ctl
	ctl=("$BIN/cellmapctl" --addr "https://${CELLMAP_ENDPOINTS%%,*}" --ca-cert "$TLS_DIR/cellmap-ca.pem" --token-file "$(admin_token_file)")
	"${ctl[@]}" --format json token create --role operator --description cellmap-bench |
		extract_secret >"$secrets/cellmap-bench" || die "cellmap token create failed"
	CELLMAP_SEC=(--ca-cert "$TLS_DIR/cellmap-ca.pem" --token-file "$secrets/cellmap-bench")
	log "cellmap: an operator token for the load generator"
}

# extract_secret prints the "secret" field of the JSON document on stdin (fails without one).
extract_secret() {
	python3 -c 'import json,sys; s=json.load(sys.stdin).get("secret"); print(s) if s else sys.exit("no secret in the answer")'
}
