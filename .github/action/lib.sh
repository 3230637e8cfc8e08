# shellcheck shell=bash
# Helpers shared by the action's scripts (sourced, not run).

# `name=value` into the step's outputs ($GITHUB_OUTPUT), with a heredoc delimiter so that a
# value may hold any character; printed instead when not under a runner.
set_output() {
  local name=$1 value=$2 delim
  delim="auditor_eof_$RANDOM$RANDOM"
  if [ -n "${GITHUB_OUTPUT:-}" ]; then
    printf '%s<<%s\n%s\n%s\n' "$name" "$delim" "$value" "$delim" >>"$GITHUB_OUTPUT"
  else
    printf '%s=%s\n' "$name" "$value"
  fi
}

# SHA-256 of stdin as 64 hex digits (sha256sum on Linux and Git Bash, shasum on macOS).
sha256() {
  if command -v sha256sum >/dev/null 2>&1; then
    sha256sum | cut -c1-64
  else
    shasum -a 256 | cut -c1-64
  fi
}

# An error annotation on the job (and the log) without the value of any input in it.
error() {
  printf '::error title=auditor::%s\n' "$*"
}

# What an exit code of `auditor check` or `auditor key` means (README "Exit codes").
exit_meaning() {
  case "$1" in
    0) echo "every expectation holds" ;;
    1) echo "the backup fails the policy (the table in the log, the SARIF report, code scanning)" ;;
    2) echo "bad policy or bad usage (policy file, option or input)" ;;
    3) echo "missing or wrong credentials (password, password-file or key)" ;;
    4) echo "the backup could not be read" ;;
    *) echo "unexpected exit code" ;;
  esac
}

# The auditor binary: AUDITOR_BIN (set from the install step), else `auditor` on PATH.
auditor_bin() {
  if [ -n "${AUDITOR_BIN:-}" ]; then
    printf '%s\n' "$AUDITOR_BIN"
  else
    command -v auditor || {
      error "no auditor binary: set install to 'build' or put auditor on PATH"
      return 2
    }
  fi
}
