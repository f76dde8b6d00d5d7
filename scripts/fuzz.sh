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

targets=0
for module in . jepsen; do
	# Packages whose tests declare a fuzz target, then the targets go test lists for each.
	mapfile -t dirs < <(cd "$module" && grep -rl --include='*_test.go' '^func Fuzz' . | xargs -r -n1 dirname | sort -u)
	for dir in "${dirs[@]}"; do
		mapfile -t names < <(cd "$module" && $GO test -list '^Fuzz' "$dir" | grep '^Fuzz' || true)
		for name in "${names[@]}"; do
			echo "fuzz: $module/${dir#./} $name for $FUZZTIME"
			(cd "$module" && $GO test -run '^$' -fuzz "^${name}\$" -fuzztime "$FUZZTIME" "$dir" >/dev/null) || {
				echo "fuzz: $name FAILED; rerun: (cd $module && $GO test -run '^$' -fuzz '^${name}\$' -fuzztime $FUZZTIME $dir)" >&2
				exit 1
			}
			targets=$((targets + 1))
		done
	done
done
(( targets > 0 )) || { echo "fuzz: no fuzz target found" >&2; exit 1; }
echo "fuzz: $targets targets passed ($FUZZTIME each)"
