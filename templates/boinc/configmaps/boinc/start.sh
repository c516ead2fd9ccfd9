#!/bin/sh
# BOINC in a pod: write the client's configuration into its data directory (an emptyDir owned by
# the pod's user), attach to the project when an account key is given, then replace this shell
# with the client, so that the client is the container's main process and gets SIGTERM itself
# (it stops its tasks, which resume from their last checkpoint if the pod's data survives, and
# exits within the grace period).
#
# Environment: BOINC_DIR (the data directory), BOINC_PROJECT_URL, BOINC_NCPUS (the pod's CPU
# limit, rounded up: the downward API), BOINC_MEMORY_LIMIT_MIB (its memory limit, likewise),
# BOINC_ACCOUNT_KEY_FILE (a file holding the key; empty or missing: attach to nothing).
set -eu

dir="${BOINC_DIR:-/var/lib/boinc}"
cd "$dir"

# As many CPUs as the pod may use, not the node's: the client asks for work and runs tasks for
# <ncpus> CPUs. One task per CPU at most, reported as soon as it is done (pods are short-lived),
# and no GPU.
cat >cc_config.xml <<CONFIG
<cc_config>
  <options>
    <ncpus>${BOINC_NCPUS:-1}</ncpus>
    <fetch_minimal_work>1</fetch_minimal_work>
    <report_results_immediately>1</report_results_immediately>
    <no_gpus>1</no_gpus>
  </options>
</cc_config>
CONFIG

# The client judges memory against the node's (it reads /proc/meminfo): cap its tasks at 80% of
# the pod's limit, as a share of the node's memory, so that no task outgrows the container.
if [ -n "${BOINC_MEMORY_LIMIT_MIB:-}" ]; then
  total_kib=$(awk '/^MemTotal:/ { print $2 }' /proc/meminfo)
  pct=$((BOINC_MEMORY_LIMIT_MIB * 1024 * 80 / total_kib))
  [ "$pct" -ge 1 ] || pct=1
  [ "$pct" -le 100 ] || pct=100
  cat >global_prefs_override.xml <<PREFS
<global_preferences>
  <ram_max_used_busy_pct>$pct</ram_max_used_busy_pct>
  <ram_max_used_idle_pct>$pct</ram_max_used_idle_pct>
</global_preferences>
PREFS
fi

# Attaching: the account file the client itself writes when it attaches (account_<URL>.xml, the
# URL without its scheme, other characters than letters, digits, '.', '-' and '_' as '_', no
# trailing '_'), so that the key never appears on a command line. Kept across container restarts
# (the client rewrites it after each scheduler request).
key_file="${BOINC_ACCOUNT_KEY_FILE:-}"
if [ -n "$key_file" ] && [ -s "$key_file" ]; then
  url="${BOINC_PROJECT_URL:?BOINC_PROJECT_URL is required with an account key}"
  name=$(printf '%s' "$url" | sed -e 's|^[A-Za-z]*://||' -e 's/[^A-Za-z0-9._-]/_/g' -e 's/_$//')
  account="account_$name.xml"
  if [ ! -e "$account" ]; then
    key=$(cat "$key_file")
    (
      umask 077
      printf '<account>\n    <master_url>%s</master_url>\n    <authenticator>%s</authenticator>\n</account>\n' \
        "$url" "$key" >"$account"
    )
  fi
  echo "cncfdemo: attached to $url ($account), ${BOINC_NCPUS:-1} CPU(s)"
else
  echo "cncfdemo: no account key (boinc.accountKey): the client runs attached to no project"
fi

exec boinc --dir "$dir"
