#!/usr/bin/env bash
# `auditor check` for the action (action.yml, step check): SARIF to INPUT_SARIF, its exit code
# kept as the output `exit-code` (this step itself succeeds, so that the SARIF is uploaded
# before the job fails), then, unless INPUT_TABLE is false, the table in the log and in the
# job summary. Outputs: exit-code, sarif, sarif-written (true when the file was written).
#
# Environment: INPUT_BACKUP, INPUT_POLICY, INPUT_SARIF (default auditor.sarif), INPUT_ARGS
# (extra arguments, split on white space), INPUT_TABLE, KEY_FILE (from the key step; empty
# without credentials), AUDITOR_BIN.
set -uo pipefail
# shellcheck source=.github/action/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

backup=${INPUT_BACKUP:-}
policy=${INPUT_POLICY:-}
sarif=${INPUT_SARIF:-auditor.sarif}
key_file=${KEY_FILE:-}

fail_usage() {
  error "$1"
  set_output exit-code 2
  set_output sarif "$sarif"
  set_output sarif-written false
  exit 0
}
[ -n "$backup" ] || fail_usage "the input 'backup' (the backup folder) is required"
[ -n "$policy" ] || fail_usage "the input 'policy' (the TOML policy file) is required"
auditor=$(auditor_bin) || fail_usage "no auditor binary"

args=(check "$backup" --policy "$policy" --color never)
if [ -n "$key_file" ]; then
  args+=(--key-file "$key_file")
fi
extra=()
if [ -n "${INPUT_ARGS:-}" ]; then
  read -r -a extra <<<"$INPUT_ARGS"
fi

# A SARIF file left by an earlier run must not be uploaded as this run's.
rm -f -- "$sarif"
mkdir -p -- "$(dirname -- "$sarif")"
"$auditor" "${args[@]}" --format sarif --output "$sarif" ${extra[@]+"${extra[@]}"}
code=$?

written=false
[ -s "$sarif" ] && written=true
set_output exit-code "$code"
set_output sarif "$sarif"
set_output sarif-written "$written"

# The table for people: only when check got as far as the expectations (0 or 1).
if [ "${INPUT_TABLE:-true}" != false ] && { [ "$code" -eq 0 ] || [ "$code" -eq 1 ]; }; then
  table=$("$auditor" "${args[@]}" --format table --quiet ${extra[@]+"${extra[@]}"})
  printf '%s\n' "$table"
  if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
    {
      printf '### auditor check: exit %s, %s\n\n' "$code" "$(exit_meaning "$code")"
      # shellcheck disable=SC2016 # backticks: a Markdown fence
      printf '```text\n%s\n```\n' "$table"
    } >>"$GITHUB_STEP_SUMMARY"
  fi
fi
echo "auditor check exited $code: $(exit_meaning "$code")"
exit 0
