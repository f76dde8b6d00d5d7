#!/usr/bin/env bash
# fuzz: run every Go native fuzz target (func FuzzXxx) of both modules (the service and jepsen/)
# for FUZZTIME each (default 30s). Targets are discovered, so a new one needs no edit here.
# Each target starts from its seed corpus (f.Add and testdata/fuzz/FuzzXxx); a failure leaves
# the failing input under testdata/fuzz/FuzzXxx/ and stops the run.
#
#   scripts/fuzz.sh              # 30 s per target
#   FUZZTIME=3s scripts/fuzz.sh  # what make test runs
set -euo pipefail
cd "$(dirname "$0")/.."
: "${FUZZTIME:=30s}" "${GO:=go}"

log=$(mktemp)
trap 'rm -f "$log"' EXIT

# corpus_count is how many failing inputs the target has recorded (its testdata/fuzz/ files).
corpus_count() { { find "$1/$2/testdata/fuzz/$3" -type f 2>/dev/null || true; } | wc -l; }

# run_target fuzzes one target. A failure that recorded a new failing input is a finding: the
# run stops and shows go test's output. A failure that recorded none (the fuzzing engine's own
# trouble, e.g. a worker starved on a loaded machine) is shown and tried once more.
run_target() {
	local module=$1 dir=$2 name=$3 try before
	for try in 1 2; do
		before=$(corpus_count "$module" "$dir" "$name")
		if (cd "$module" && $GO test -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" "$dir" >"$log" 2>&1); then
			return 0
		fi
		tail -n 40 "$log" >&2
		if (( try == 1 )) && (( $(corpus_count "$module" "$dir" "$name") == before )); then
			echo "fuzz: $name failed without recording a failing input; trying once more" >&2
			continue
		fi
		echo "fuzz: $name FAILED; rerun: (cd $module && $GO test -run '^$' -fuzz '^${name}\$' -fuzztime $FUZZTIME $dir)" >&2
		exit 1
	done
}

targets=0
for module in . jepsen; do
	# Packages whose tests declare a fuzz target, then the targets go test lists for each.
	mapfile -t dirs < <(cd "$module" && grep -rl --include='*_test.go' '^func Fuzz' . | xargs -r -n1 dirname | sort -u)
	for dir in "${dirs[@]}"; do
		mapfile -t names < <(cd "$module" && $GO test -list '^Fuzz' "$dir" | grep '^Fuzz' || true)
		for name in "${names[@]}"; do
			echo "fuzz: $module/${dir#./} $name for $FUZZTIME"
			run_target "$module" "$dir" "$name"
			targets=$((targets + 1))
		done
	done
done
(( targets > 0 )) || { echo "fuzz: no fuzz target found" >&2; exit 1; }
echo "fuzz: $targets targets passed ($FUZZTIME each)"
