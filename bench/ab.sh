#!/usr/bin/env bash
# A/B timing of two auditor binaries on the same backup: warm the page cache once, then run
# A, B, A, B … (N times each, default 7) and print the median and best wall time and the
# median CPU time (user + sys) of each. Used for before/after figures in docs/performance.md.
#
#   bench/ab.sh OLD_BINARY NEW_BINARY [scan arguments...]
#   e.g. bench/ab.sh /tmp/auditor-old target/release/auditor --deep --format json
#
# Environment: BENCH_WORK (default /tmp/auditor-bench; uses its large-backup and key, as
# written by bench/run.sh with BENCH_KEEP=1), N (runs per binary).
set -euo pipefail
WORK=${BENCH_WORK:-/tmp/auditor-bench}
BACKUP=${BACKUP:-$WORK/large-backup}
KEYF=${KEYF:-$WORK/key}
[ $# -ge 2 ] || { sed -n 2,10p "$0"; exit 2; }
A=$1 B=$2
shift 2
LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT
find "$BACKUP" -type f -print0 | xargs -0 cat >/dev/null
for _ in $(seq "${N:-7}"); do
  for which in A B; do
    bin=${!which}
    rc=0
    /usr/bin/time -f "$which %e %U %S" -a -o "$LOG" "$bin" scan "$BACKUP" --key-file "$KEYF" "$@" >/dev/null 2>&1 || rc=$?
    # 1: the scan ran and found something (`--fail-on`); anything else is a failed run.
    if [ "$rc" -gt 1 ]; then echo "$bin failed (exit $rc)" >&2; exit 1; fi
  done
done
python3 - "$LOG" "$A" "$B" <<'PY'
import collections, statistics as st, sys
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    parts = line.split()
    if len(parts) == 4 and parts[0] in ("A", "B"):
        runs[parts[0]].append((float(parts[1]), float(parts[2]) + float(parts[3])))
for k, name in (("A", sys.argv[2]), ("B", sys.argv[3])):
    v = runs[k]
    print(f"{k} {name}: wall median {st.median(x[0] for x in v):.3f} s, best {min(x[0] for x in v):.3f} s; "
          f"CPU median {st.median(x[1] for x in v):.3f} s ({len(v)} runs)")
PY
