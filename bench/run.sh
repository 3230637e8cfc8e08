#!/usr/bin/env bash
# Benchmark auditor against iphone_backup_decrypt and iOSbackup on the same synthetic backup,
# in one run: open (real key derivation), list, list+decode, deep verify, export everything.
# Prints a table with wall times, peak RSS and ratios. See docs/performance.md.
#
#   bench/run.sh            the 2 GB / 104,480-row comparison (bench/specs/large.json), and
#                           extract of four 200 MiB videos against cp of their payloads
#   bench/run.sh scale      1.3 M index rows with tiny payloads (bench/specs/scale.json)
#                           against 100k rows of the same shape (bench/specs/scale-100k.json):
#                           scan, scan --format json, keychain, check, leaks and extract,
#                           with the ratios and peaks the Scale targets name
#
# Environment: BENCH_WORK (default /tmp/auditor-bench), BENCH_SKIP_PY=1 (auditor only),
# BENCH_KEEP=1 (keep backup and exports), BENCH_NO_KDF_FLOOR=1 (skip `cargo bench`),
# BENCH_SCALE_REPS=N (runs per command and size in `scale` mode; default 3, the median kept).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
MODE=${1:-large}
WORK=${BENCH_WORK:-/tmp/auditor-bench}
case "$MODE" in
  large) SPEC=$REPO/bench/specs/large.json ;;
  scale) SPEC=$REPO/bench/specs/scale.json ;;
  *) echo "usage: bench/run.sh [large|scale]" >&2; exit 2 ;;
esac
BACKUP=$WORK/$MODE-backup
RESULTS=$WORK/$MODE-results.tsv
AUD=$REPO/target/release/auditor
mkdir -p "$WORK"

say() { printf '\n== %s\n' "$*"; }

say "machine"
nproc; free -h | sed -n 2p; df -h "$WORK" | tail -1; uptime
if ! /usr/bin/time -V >/dev/null 2>&1; then
  echo "GNU time missing: installing (apt-get install time)"
  apt-get update -qq && apt-get install -y -qq time >/dev/null
fi

say "build (release)"
cargo build --release --quiet

FLOOR=""
if [ -z "${BENCH_NO_KDF_FLOOR:-}" ] && [ "$MODE" = large ]; then
  say "SHA-256 floor and our PBKDF2 (cargo bench --bench kdf)"
  cargo bench --quiet --bench kdf 2>/dev/null | tee "$WORK/kdf.txt" | grep -E "^\((a|b|c)\)|short samples|thread CPU" || true
  FLOOR=$(sed -n 's/^(a) floor: .* \([0-9.]*\) s .*/\1/p' "$WORK/kdf.txt")
fi

say "backup ($SPEC)"
PW=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["password"])' "$SPEC")
STAMP=$(sha256sum "$SPEC" | cut -c1-16)
if [ ! -f "$BACKUP/.bench-$STAMP" ] || [ -n "${BENCH_REGEN:-}" ]; then
  rm -rf "$BACKUP"
  /usr/bin/time -f "generated in %e s, peak %M KB" "$AUD" fixture "$SPEC" "$BACKUP" 2>&1 | tail -1
  touch "$BACKUP/.bench-$STAMP"
fi
ROWS=$(python3 - "$BACKUP/Manifest.db" <<'EOF' 2>/dev/null || echo "?"
import sys
print("%.1f MB Manifest.db (ciphertext)" % (__import__("os").path.getsize(sys.argv[1]) / 1e6))
EOF
)
echo "$(du -sh "$BACKUP" | cut -f1) on disk, $ROWS"
printf '%s\n' "$PW" > "$WORK/password"
KEYF=$WORK/key
"$AUD" key "$BACKUP" --password-file "$WORK/password" 2>/dev/null > "$KEYF"
KEY=$(cat "$KEYF")

PY=$WORK/venv/bin/python
if [ -z "${BENCH_SKIP_PY:-}" ] && [ "$MODE" = large ]; then
  say "Python tools (throw-away venv $WORK/venv)"
  if [ ! -x "$PY" ]; then
    python3 -m venv "$WORK/venv"
    "$WORK/venv/bin/pip" install -q iphone_backup_decrypt==0.11.2 iOSbackup==0.9.925
  fi
  "$WORK/venv/bin/pip" list 2>/dev/null | grep -iE "iphone|iosbackup|pycryptodome"
fi

# The page cache of this VM is reclaimed after ~30 s without access (DAMON), so every timed
# command starts from the same state: the whole backup read just before it.
warm() { find "$BACKUP" -type f -print0 | xargs -0 cat > /dev/null; }

: > "$RESULTS"
# measure OP TOOL CMD...: wall seconds and peak RSS (GNU time), appended to $RESULTS.
measure() {
  local op=$1 tool=$2; shift 2
  warm
  local load; load=$(cut -d' ' -f1 /proc/loadavg)
  if /usr/bin/time -f "%e %M" -o "$WORK/time.txt" "$@" > "$WORK/last.out" 2> "$WORK/last.err"; then
    :
  else
    local rc=$?
    # auditor exits 1 when it ran but found something (extract: rows not exported).
    if [ "$rc" -ne 1 ] || [ "$tool" != auditor ]; then
      echo "FAILED ($rc): $*"; tail -5 "$WORK/last.err"; return 1
    fi
  fi
  read -r wall rss < <(tail -1 "$WORK/time.txt")
  printf '%s\t%s\t%s\t%s\t%s\n' "$op" "$tool" "$wall" "$rss" "$load" >> "$RESULTS"
  awk -v op="$op" -v tool="$tool" -v w="$wall" -v r="$rss" -v l="$load" \
    'BEGIN { printf "  %-8s %-10s %8.2f s  %8.1f MB peak  (load %s)\n", op, tool, w, r / 1024, l }'
}

# fresh_out DIR: an empty ext4 file system mounted at DIR where this machine allows it (root,
# loop devices; BENCH_NO_FRESH_FS=1 to skip), so that every export starts from the same file
# system state: an ext4 that just freed a million inodes allocates new ones far slower
# (see docs/performance.md). Elsewhere DIR is a plain folder. Sets FRESH to what DIR is.
fresh_out() {
  local dir=$1 img=$WORK/exports.img
  if mountpoint -q "$dir" 2>/dev/null; then umount "$dir"; fi
  mkdir -p "$dir"
  FRESH=folder
  if [ -z "${BENCH_NO_FRESH_FS:-}" ] && [ "$(id -u)" = 0 ] && command -v mkfs.ext4 > /dev/null; then
    rm -f "$img"
    truncate -s 32G "$img"
    if mkfs.ext4 -q -F -i 4096 "$img" && mount -o loop "$img" "$dir"; then FRESH=ext4; fi
  fi
}
drop_out() {
  if mountpoint -q "$1" 2>/dev/null; then umount "$1"; fi
  rm -rf "$1" "$WORK/exports.img"
}

if [ "$MODE" = scale ]; then
  # Linearity: the same commands on a 100k-row backup of the same shape (bench/specs/
  # scale-100k.json) and on the 1.3 M-row one; ratio = 1.3 M time / 100k time (target
  # <= 15 for 13x the rows) and peak RSS at 1.3 M (target <= 256 MB).
  SMALL=$WORK/scale-100k-backup
  SSPEC=$REPO/bench/specs/scale-100k.json
  SSTAMP=$(sha256sum "$SSPEC" | cut -c1-16)
  if [ ! -f "$SMALL/.bench-$SSTAMP" ] || [ -n "${BENCH_REGEN:-}" ]; then
    rm -rf "$SMALL"
    /usr/bin/time -f "generated in %e s, peak %M KB" "$AUD" fixture "$SSPEC" "$SMALL" 2>&1 | tail -1
    touch "$SMALL/.bench-$SSTAMP"
  fi
  SKEYF=$WORK/scale-100k-key
  "$AUD" key "$SMALL" --password-file "$WORK/password" 2>/dev/null > "$SKEYF"
  POLICY=$REPO/bench/scale-policy.toml
  LARGE=$BACKUP
  # Every figure is the median of three runs at both sizes (a single run at 1.3 M rows
  # moved by a third with the kernel's cache state: the first command after the switch to
  # the large backup was the slow one). An export is timed until it is on disk (`sync -f`
  # of its file system), at both sizes.
  for size in 100k 1.3M; do
    if [ "$size" = 100k ]; then B=$SMALL; K=$SKEYF; else B=$LARGE; K=$KEYF; fi
    REPS=${BENCH_SCALE_REPS:-3}
    say "scale: $size rows ($B)"
    BACKUP=$B # what warm() reads before each command
    for rep in $(seq "$REPS"); do
      measure "scan/$size" auditor "$AUD" scan "$B" --key-file "$K" -q
      measure "json/$size" auditor sh -c "'$AUD' scan '$B' --key-file '$K' -q --format json > '$WORK/scale-scan.json'"
      ls -la "$WORK/scale-scan.json" | awk '{print "  JSON report:", $5, "bytes"}'
      rm -f "$WORK/scale-scan.json"
      measure "keychain/$size" auditor "$AUD" keychain "$B" --key-file "$K" -q
      measure "check/$size" auditor "$AUD" check "$B" --key-file "$K" -q --policy "$POLICY"
      measure "leaks/$size" auditor "$AUD" leaks "$B" --key-file "$K" -q
      fresh_out "$WORK/scale-out"
      echo "  export to: $FRESH"
      O=$WORK/scale-out/$size
      measure "extract/$size" auditor sh -c "'$AUD' extract '$B' --out '$O' --key-file '$K' -q; rc=\$?; sync -f '$WORK/scale-out'; exit \$rc"
      drop_out "$WORK/scale-out"
    done
  done
  say "results (scale; ratio = 1.3 M-row time / 100k-row time, for 13x the rows)"
  python3 - "$RESULTS" <<'EOF'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
runs = {}
for op, tool, w, r, ld in rows:
    runs.setdefault(op, []).append((float(w), int(r) / 1024))
# The median wall time of an operation's runs, and its largest peak.
t = {op: (sorted(w for w, _ in v)[len(v) // 2], max(r for _, r in v)) for op, v in runs.items()}
print("| command | 100k rows (median) | 1.3 M rows (median) | ratio (target <= 15) | peak at 1.3 M (target <= 256 MB) |")
print("|---|---|---|---|---|")
for op in ("scan", "json", "keychain", "check", "leaks", "extract"):
    a, b = t.get(op + "/100k"), t.get(op + "/1.3M")
    if not a or not b:
        print(f"| {op} | {f'{a[0]:.2f} s' if a else '—'} | {f'{b[0]:.2f} s' if b else '—'} | — | — |")
        continue
    r = b[0] / a[0] if a[0] > 0 else float("inf")
    print(f"| {op} | {a[0]:.2f} s, {a[1]:.0f} MB | {b[0]:.2f} s, {b[1]:.0f} MB "
          f"| {r:.1f}x {'ok' if r <= 15 else 'MISSED'} | {b[1]:.0f} MB {'ok' if b[1] <= 256 else 'MISSED'} |")
EOF
  uptime
  [ -n "${BENCH_KEEP:-}" ] || rm -rf "$LARGE" "$SMALL"
  exit 0
fi

OUT=$WORK/exports
# Earlier exports are moved aside, not deleted: deleting 100,000 files just before timing an
# export slows that export down (see docs/performance.md, Method); they go at the end.
if [ -d "$OUT" ]; then mv "$OUT" "$WORK/stale-exports.$$"; fi
mkdir -p "$OUT"
say "timings (each command after reading the whole backup once)"
measure open auditor "$AUD" key "$BACKUP" --password-file "$WORK/password"
if [ -z "${BENCH_SKIP_PY:-}" ]; then
  measure open ibd "$PY" bench/pytools.py ibd open "$BACKUP" --password "$PW"
  measure open iosbackup "$PY" bench/pytools.py iosbackup open "$BACKUP" --password "$PW"
fi
measure list auditor "$AUD" scan "$BACKUP" --key-file "$KEYF"
measure decode auditor sh -c "'$AUD' scan '$BACKUP' --key-file '$KEYF' --format json > /dev/null"
if [ -z "${BENCH_SKIP_PY:-}" ]; then
  measure list ibd "$PY" bench/pytools.py ibd list "$BACKUP" --key "$KEY"
  measure list iosbackup "$PY" bench/pytools.py iosbackup list "$BACKUP" --key "$KEY"
  measure decode ibd "$PY" bench/pytools.py ibd decode "$BACKUP" --key "$KEY"
  measure decode iosbackup "$PY" bench/pytools.py iosbackup decode "$BACKUP" --key "$KEY"
fi
measure deep auditor sh -c "'$AUD' scan '$BACKUP' --key-file '$KEYF' --deep --format json > '$WORK/deep.json'"
measure verify auditor sh -c "'$AUD' scan '$BACKUP' --key-file '$KEYF' --deep --no-hash --format json > /dev/null"
# Exports go to fresh folders that are only deleted at the end: this ext4 has no journal, so
# it skips inodes freed in the last minutes, and deleting 100,000 files just before another
# export would slow that one down.
measure export auditor "$AUD" extract "$BACKUP" --out "$OUT/auditor" --key-file "$KEYF"
if [ -z "${BENCH_SKIP_PY:-}" ]; then
  measure export ibd "$PY" bench/pytools.py ibd export "$BACKUP" --key "$KEY" --out "$OUT/ibd"
  mkdir -p "$OUT/iosbackup"
  measure export iosbackup "$PY" bench/pytools.py iosbackup export "$BACKUP" --key "$KEY" --out "$OUT/iosbackup"
fi

say "scan against the stat floor (find -printf of every size; warm, best of 3)"
STAT_BEST=$(for r in 1 2 3; do
  warm; /usr/bin/time -f "%e" sh -c "find '$BACKUP' -type f -printf '%s\n' > /dev/null" 2>&1 | tail -1
done | sort -n | head -1)
SCAN_BEST=$(for r in 1 2 3; do
  warm; /usr/bin/time -f "%e" "$AUD" scan "$BACKUP" --key-file "$KEYF" -q 2>&1 > /dev/null | tail -1
done | sort -n | head -1)
awk -v f="$STAT_BEST" -v s="$SCAN_BEST" 'BEGIN { printf "  find %.2f s, scan %.2f s: %.1fx (target <= 4)\n", f, s, s / f }'

say "four 200 MiB videos: extract --path against cp of their payloads (warm, sync, best of 3)"
VIDS=""
for i in 1 2 3 4; do
  id=$(printf 'CameraRollDomain-Media/DCIM/999FIXTR/BIG_%04d.MOV' "$i" | sha1sum | cut -c1-40)
  VIDS="$VIDS $BACKUP/${id:0:2}/$id"
done
best() { sort -n | head -1; }
# Both write to the same fresh file system (fresh_out), each run to a new folder.
V=$WORK/videos-out
fresh_out "$V"
echo "  written to: $FRESH"
CP_BEST=$(for r in 1 2 3; do
  cat $VIDS "$BACKUP/Manifest.db" > /dev/null; mkdir "$V/cp-$r"; sync
  /usr/bin/time -f "%e" cp $VIDS "$V/cp-$r/" 2>&1 | tail -1
done | best)
EX_BEST=$(for r in 1 2 3; do
  cat $VIDS "$BACKUP/Manifest.db" > /dev/null; sync
  /usr/bin/time -f "%e" "$AUD" extract "$BACKUP" --out "$V/ex-$r" --key-file "$KEYF" -q \
    --path 'Media/DCIM/999FIXTR/BIG_000[1-4].MOV' 2>&1 > /dev/null | tail -1
done | best)
drop_out "$V"
awk -v c="$CP_BEST" -v e="$EX_BEST" 'BEGIN { printf "  cp %.2f s, extract %.2f s: %.1fx (target <= 3)\n", c, e, e / c }'

say "exports: SHA-256 of every file"
if [ -z "${BENCH_SKIP_PY:-}" ]; then
  python3 bench/compare.py "$OUT/auditor" "$OUT/ibd" "$OUT/iosbackup" --deep-json "$WORK/deep.json" || true
else
  python3 bench/compare.py "$OUT/auditor" "$OUT/auditor" --deep-json "$WORK/deep.json" || true
fi

say "results ($MODE; ratio = other tool's time / auditor's time for the same operation)"
python3 - "$RESULTS" "${FLOOR:-}" <<'EOF'
import sys
rows = [l.rstrip("\n").split("\t") for l in open(sys.argv[1]) if l.strip()]
floor = float(sys.argv[2]) if sys.argv[2] else None
t = {(op, tool): (float(w), int(r) / 1024, ld) for op, tool, w, r, ld in rows}
ops = [("open", "open with the real derivation (10,000,000 + 10,000 rounds)"),
       ("list", "list every index row (auditor: scan, table)"),
       ("decode", "list and decode every record (auditor: scan --format json)"),
       ("deep", "auditor scan --deep (decrypt + SHA-256 every payload)"),
       ("verify", "auditor scan --deep --no-hash (decrypt, verify padding and length)"),
       ("export", "export every file")]
print(f"| operation | auditor | iphone_backup_decrypt | iOSbackup |")
print(f"|---|---|---|---|")
for op, label in ops:
    a = t.get((op, "auditor"))
    cells = []
    for tool in ("auditor", "ibd", "iosbackup"):
        v = t.get((op, tool))
        if v is None:
            cells.append("—"); continue
        s = f"{v[0]:.2f} s, {v[1]:.0f} MB"
        if tool != "auditor" and a:
            s += f" ({v[0] / a[0]:.1f}×)"
        cells.append(s)
    print(f"| {label} | " + " | ".join(cells) + " |")
if floor:
    a = t[("open", "auditor")][0]
    print(f"\nSHA-256 floor (2 x 10,000,000 compressions): {floor:.3f} s; auditor open = {a / floor:.3f} x floor (target <= 1.05)")
ibd_exp = t.get(("export", "ibd"))
if ibd_exp:
    if ("deep", "auditor") in t:
        print(f"scan --deep vs ibd export: {ibd_exp[0] / t[('deep', 'auditor')][0]:.1f}x (target >= 40)")
    if ("verify", "auditor") in t:
        print(f"scan --deep --no-hash vs ibd export: {ibd_exp[0] / t[('verify', 'auditor')][0]:.1f}x")
    print(f"export vs ibd export: {ibd_exp[0] / t[('export', 'auditor')][0]:.1f}x (target >= 10)")
ibd_dec = t.get(("decode", "ibd"))
if ibd_dec:
    print(f"scan (table) vs ibd list+decode: {ibd_dec[0] / t[('list', 'auditor')][0]:.1f}x; "
          f"scan --format json: {ibd_dec[0] / t[('decode', 'auditor')][0]:.1f}x (target >= 30)")
EOF
uptime
if [ -z "${BENCH_KEEP:-}" ]; then rm -rf "$OUT" "$WORK/deep.json"; fi
rm -rf "$WORK"/stale-exports.*
