#!/usr/bin/env bash
# Golden outputs: run every reporting command of BIN on the bundled fixture, the conformance
# backups and the real backups in ../shared/external/, and write stdout, stderr and the exit
# code of each run under OUT. Run it with the binary before and after a refactor and
# `diff -r` the two folders: the outputs must be byte-identical (the tool version and the
# output paths aside, which are normalised here).
#   bench/golden.sh target/release/auditor /tmp/golden-before
set -uo pipefail
BIN=$(realpath "$1"); OUT=$2
ROOT=$(cd "$(dirname "$0")/.." && pwd)
SHARED=${SHARED:-$ROOT/../shared}
mkdir -p "$OUT"; OUT=$(realpath "$OUT")
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
VERSION=$("$BIN" --version | awk '{print $2}')

norm() { # files...: the tool version and this machine's paths made neutral
  sed -i -e "s#$TMP#<TMP>#g" -e "s#\"version\": *\"$VERSION\"#\"version\":\"<V>\"#g" \
    -e "s#$ROOT#<ROOT>#g" -e "s#$SHARED#<SHARED>#g" "$@"
}

run() { # name, args...
  local name=$1; shift
  (cd "$TMP" && "$BIN" "$@" >"$OUT/$name.out" 2>"$OUT/$name.err" </dev/null)
  echo $? >"$OUT/$name.rc"
  norm "$OUT/$name.out" "$OUT/$name.err"
}

backup() { # name, dir, creds...
  local n=$1 d=$2; shift 2
  run "$n.info" info "$d"
  run "$n.info.json" info "$d" --format json
  run "$n.scan" scan "$d" "$@"
  run "$n.scan.files" scan "$d" "$@" --files
  run "$n.scan.json" scan "$d" "$@" --format json
  run "$n.scan.deep.json" scan "$d" "$@" --deep --format json
  run "$n.scan.deep" scan "$d" "$@" --deep
  run "$n.keychain" keychain "$d" "$@"
  run "$n.keychain.json" keychain "$d" "$@" --format json
  run "$n.policy" policy init "$d" "$@" -o "$TMP/$n.toml"
  cp "$TMP/$n.toml" "$OUT/$n.policy.toml" 2>/dev/null && norm "$OUT/$n.policy.toml"
  for f in table json sarif junit; do
    run "$n.check.$f" check "$d" "$@" --policy "$TMP/$n.toml" --format $f
  done
  if [ -f "$ROOT/tests/data/policy/small.toml" ]; then
    run "$n.check-small" check "$d" "$@" --policy "$ROOT/tests/data/policy/small.toml" --format json
  fi
  rm -rf "$TMP/x"
  run "$n.extract" extract "$d" --out "$TMP/x" "$@" --format json
  (cd "$TMP/x" 2>/dev/null && find . -type f -print0 | sort -z | xargs -0 -r sha256sum) >"$OUT/$n.extract.tree"
  rm -rf "$TMP/x"
}

backup demo "$ROOT/fixtures/demo/00008130-000A11CE0DE0001E" --password-file "$ROOT/fixtures/demo/password.txt"
C=$SHARED/conformance
if [ -d "$C" ]; then
  backup conf-small-enc "$C/small-encrypted/00008120-001A2B3C4D5E801E" --password oracle-small-pw
  backup conf-small-plain "$C/small-unencrypted/00008120-001A2B3C4D5E801E"
fi
E=$SHARED/external
if [ -d "$E" ]; then
  backup hv20 "$E/hv20/Backup" --password 20201225
  backup mvt "$E/mvt/ios_backup"
  backup pyio10 "$E/pyiosbackup/backup_ios10_sqlite" --password 0000
  backup pyio9 "$E/pyiosbackup/backup_ios9_mbdb" --password 0000
  for m in "$E"/john-samples/*.plist "$E"/cowabungalite "$E"/cowabungalite/Manifest.plist; do
    n=$(basename "$(dirname "$m")")-$(basename "$m"); run "info-$n" info "$m"; run "info-$n.json" info "$m" --format json
  done
fi
echo "golden outputs in $OUT ($(ls "$OUT" | wc -l) files)"
