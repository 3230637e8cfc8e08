#!/usr/bin/env bash
# The backup's derived key for the action (action.yml, steps key-plan and key).
#
#   key.sh plan    masks the key and password inputs; outputs `source` (key, password or none),
#                  `key-file` (where the key goes, under RUNNER_TEMP, mode 0600) and, for a
#                  password, `cache-key`: auditor-key-<SHA-256 of the keybag's hash line>
#   key.sh derive  writes the key file: the `key` input as is; with a password, the key the
#                  cache restored, or else `auditor key … -o` (outputs `derived=true`)
#
# Inputs come as INPUT_BACKUP, INPUT_KEY, INPUT_PASSWORD, INPUT_PASSWORD_FILE; nothing here
# prints a key or a password. The key depends on the password and the keybag's salts only, so
# the cache key is taken from the keybag (`auditor key --hash`, hashed again): every later
# backup of the same device with the same password finds it, a new password misses.
set -uo pipefail
# shellcheck source=.github/action/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

mode=${1:?usage: key.sh plan|derive}
backup=${INPUT_BACKUP:-}
key=${INPUT_KEY:-}
password=${INPUT_PASSWORD:-}
password_file=${INPUT_PASSWORD_FILE:-}
dir="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/auditor-action"
key_file="$dir/backup.key"

if [ -z "$backup" ]; then
  error "the input 'backup' (the backup folder) is required"
  set_output exit-code 2
  exit 2
fi
auditor=$(auditor_bin) || exit 2

if [ -n "$key" ]; then
  source=key
elif [ -n "$password" ] || [ -n "$password_file" ]; then
  source=password
else
  source=none
fi

case "$mode" in
  plan)
    # Secrets passed as inputs are masked already; a value that is not a secret is masked
    # from here on (one mask per line).
    for v in "$key" "$password"; do
      [ -n "$v" ] || continue
      while IFS= read -r line; do
        [ -n "$line" ] && printf '::add-mask::%s\n' "$line"
      done <<<"$v"
    done
    set_output source "$source"
    if [ "$source" = none ]; then
      set_output key-file ""
      set_output cache-key ""
      exit 0
    fi
    set_output key-file "$key_file"
    cache_key=""
    if [ "$source" = password ]; then
      # No hash line (not encrypted, unreadable): no cache; `derive` reports the error.
      if line=$("$auditor" key "$backup" --hash --quiet --color never 2>/dev/null); then
        cache_key="auditor-key-$(printf '%s' "$line" | sha256)"
      fi
    fi
    set_output cache-key "$cache_key"
    ;;
  derive)
    derived=false
    if [ "$source" != none ]; then
      (umask 077 && mkdir -p "$dir") && chmod 700 "$dir" || exit 4
    fi
    case "$source" in
      key)
        (umask 077 && printf '%s\n' "$key" >"$key_file") || exit 4
        ;;
      password)
        if [ -s "$key_file" ]; then
          echo "auditor: derived key restored from the cache"
        else
          rm -f "$key_file"
          if [ -n "$password" ]; then
            printf '%s' "$password" |
              "$auditor" key "$backup" --password-file - -o "$key_file" --quiet --color never
          else
            "$auditor" key "$backup" --password-file "$password_file" -o "$key_file" \
              --quiet --color never
          fi
          code=$?
          if [ "$code" -ne 0 ]; then
            rm -f "$key_file"
            error "auditor key exited $code: $(exit_meaning "$code")"
            set_output exit-code "$code"
            exit "$code"
          fi
          derived=true
        fi
        ;;
    esac
    if [ "$source" != none ]; then
      chmod 600 "$key_file"
      set_output key-file "$key_file"
    else
      set_output key-file ""
    fi
    set_output derived "$derived"
    ;;
  *)
    error "key.sh: unknown mode '$mode'"
    exit 2
    ;;
esac
