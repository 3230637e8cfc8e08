#!/usr/bin/env bash
# The action's auditor binary (action.yml, steps build-plan and install).
#
#   install.sh plan   outputs `key` and `restore-key` for the build cache: the runner, the
#                     toolchain, the action's Cargo.lock and its sources
#   install.sh build  `cargo install --locked --path $GITHUB_ACTION_PATH` into
#                     ~/.cache/auditor-action (skipped when the cache restored that very build)
#   install.sh path   the `auditor` already on PATH
#
# Both install modes output `bin` (the binary's path) and add its folder to GITHUB_PATH.
set -euo pipefail
# shellcheck source=.github/action/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

mode=${1:?usage: install.sh plan|build|path}
src=${GITHUB_ACTION_PATH:?GITHUB_ACTION_PATH is not set}
root="$HOME/.cache/auditor-action"

need_cargo() {
  if ! command -v cargo >/dev/null 2>&1; then
    error "cargo not found: install a Rust toolchain (1.85 or later) before this action, or set install to 'path' with auditor on PATH"
    exit 2
  fi
}

case "$mode" in
  plan)
    need_cargo
    lock=$(sha256 <"$src/Cargo.lock")
    # Every file the build reads, by name and content: a new action ref rebuilds.
    sources=$(
      cd "$src"
      find Cargo.toml Cargo.lock build.rs src -type f -print0 | LC_ALL=C sort -z |
        while IFS= read -r -d '' f; do printf '%s %s\n' "$(sha256 <"$f")" "$f"; done | sha256
    )
    toolchain=$(rustc -V | sha256)
    prefix="auditor-build-${RUNNER_OS:-local}-${RUNNER_ARCH:-local}-${toolchain:0:12}-${lock:0:16}-"
    set_output key "$prefix${sources:0:16}"
    set_output restore-key "$prefix"
    ;;
  build)
    bin="$root/bin/auditor"
    if [ "${CACHE_HIT:-}" = true ] && [ -x "$bin" ] && "$bin" --version; then
      echo "auditor restored from the cache: $bin"
    else
      need_cargo
      CARGO_TARGET_DIR="$root/target" cargo install --locked --path "$src" --root "$root" --force
      "$bin" --version
    fi
    ;;
  path)
    bin=$(command -v auditor) || {
      error "install is 'path' but there is no auditor on PATH"
      exit 2
    }
    "$bin" --version
    ;;
  *)
    error "install must be 'build' or 'path', not '$mode'"
    exit 2
    ;;
esac

if [ "$mode" != plan ]; then
  set_output bin "$bin"
  if [ -n "${GITHUB_PATH:-}" ]; then
    dirname "$bin" >>"$GITHUB_PATH"
  fi
fi
