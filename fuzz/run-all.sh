#!/usr/bin/env bash
# Run every cargo-fuzz target for SECONDS each (default 120) on nightly, seeded from the
# committed corpora (tests/corpus/<target>/, read-only) plus a scratch corpus fuzz/corpus/.
# New crashes land in fuzz/artifacts/<target>/: minimise, copy into tests/corpus/<target>/
# (so `cargo test` replays them on stable), then fix.
set -u
cd "$(dirname "$0")"
SECONDS_PER_TARGET="${1:-120}"
TARGETS="${TARGETS:-keybag manifest_plist info_plist status_plist mbfile mbdb manifest_db keychain_blob der keychain_items extract_path leaks_plist leaks_sqlite leaks_json leaks_text leaks_cookies leaks_compressed leaks_encoded leaks_wal}"
for t in $TARGETS; do
  mkdir -p "corpus/$t" "artifacts/$t"
  echo "== $t"
  cargo +nightly fuzz run -O "$t" "corpus/$t" "../tests/corpus/$t" -- \
    -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=512 \
    -artifact_prefix="artifacts/$t/" -print_final_stats=1 2>&1 \
    | grep -E "^(stat::number_of_executed_units|stat::peak_rss_mb|==[0-9]+==|SUMMARY|thread .* panicked|Done|INFO: Seed|artifact_prefix|Test unit written)" || true
done
