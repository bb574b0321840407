#!/usr/bin/env bash
# bench-compare: build the shoal binary at OLD (a git ref) and at the work
# tree, then run BenchmarkCreates (Shoal only) with each in turn, alternating
# ROUNDS times on this machine, and print one table. Ratios between the two
# columns are what count: absolute numbers move with the machine's load.
set -euo pipefail
OLD=${OLD:?set OLD=<git ref>}
ROUNDS=${ROUNDS:-2}
root=$(git rev-parse --show-toplevel)
tmp=$(mktemp -d /tmp/shoal-bench-compare.XXXXXX)
cleanup() {
	git -C "$root" worktree remove --force "$tmp/old" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
git -C "$root" worktree add --detach "$tmp/old" "$OLD" >/dev/null
(cd "$tmp/old" && CGO_ENABLED=0 go build -o "$tmp/shoal-old" ./cmd/shoal)
(cd "$root" && CGO_ENABLED=0 go build -o "$tmp/shoal-new" ./cmd/shoal)
echo "cpu pressure before: $(head -1 /proc/pressure/cpu 2>/dev/null || echo n/a)"
for round in $(seq 1 "$ROUNDS"); do
	for which in old new; do
		out=$(cd "$root" && SHOAL_BINARY="$tmp/shoal-$which" SHOAL_BENCH_SHOAL_ONLY=1 \
			go test -run '^$' -bench '^BenchmarkCreates$' -benchtime 1x -timeout 10m ./test/bench/ 2>&1) || { echo "$out"; exit 1; }
		line=$(echo "$out" | grep -E '^BenchmarkCreates' | head -1)
		echo "$which $round $line" >>"$tmp/results"
		echo "round $round $which: $line" | tr -s ' \t' ' '
	done
done
echo "cpu pressure after: $(head -1 /proc/pressure/cpu 2>/dev/null || echo n/a)"
# Each line holds "value unit" pairs after the iteration count and ns/op.
awk -v old="$OLD" '
{
	which = $1
	for (i = 5; i + 1 <= NF; i += 2) { sum[which, $(i+1)] += $i; n[which, $(i+1)]++; units[$(i+1)] = 1 }
}
END {
	printf "\n%-24s %14s %14s %8s\n", "mean over rounds", old, "work tree", "new/old"
	for (u in units) {
		o = sum["old", u] / n["old", u]; w = sum["new", u] / n["new", u]
		printf "%-24s %14.2f %14.2f %7.2fx\n", u, o, w, (o > 0 ? w / o : 0)
	}
}' "$tmp/results"
