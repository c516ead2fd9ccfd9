#!/bin/bash
# cncfdemo wrk runner: one load generator. Runs wrk with the cncfdemo Lua script, pushes the
# result to the Pushgateway (Prometheus text format, group job=cncfdemo-bench, run_id, generator)
# and prints the JSON result on stdout. wrk's own report goes to stderr with any app_key masked.
#
# Environment (the bench Job sets these):
#   WRK_URL (required), WRK_RUN_ID (required), WRK_GENERATOR (default g$WRK_INDEX, else g0),
#   WRK_DURATION (30s), WRK_CONNECTIONS (64), WRK_THREADS (2), WRK_TIMEOUT (2s),
#   WRK_STATUS_COUNTS (0), PUSHGATEWAY_URL (optional), WRK_SCRIPT (/opt/cncfdemo/bench.lua),
#   WRK_OUT_DIR (/tmp)
set -euo pipefail

: "${WRK_URL:?WRK_URL is required}"
: "${WRK_RUN_ID:?WRK_RUN_ID is required}"
export WRK_GENERATOR="${WRK_GENERATOR:-g${WRK_INDEX:-0}}"
export WRK_RUN_ID
script="${WRK_SCRIPT:-/opt/cncfdemo/bench.lua}"
out="${WRK_OUT_DIR:-/tmp}"
export WRK_RESULT_JSON="$out/result-$WRK_GENERATOR.json"
export WRK_RESULT_PROM="$out/result-$WRK_GENERATOR.prom"
rm -f "$WRK_RESULT_JSON" "$WRK_RESULT_PROM"

mask() { sed -u 's/app_key=[^& ]*/app_key=<redacted>/g'; }

echo "generator $WRK_GENERATOR of run $WRK_RUN_ID" >&2
wrk --threads "${WRK_THREADS:-2}" --connections "${WRK_CONNECTIONS:-64}" \
  --duration "${WRK_DURATION:-30s}" --timeout "${WRK_TIMEOUT:-2s}" \
  --script "$script" "$WRK_URL" 2>&1 | mask >&2

if [ ! -s "$WRK_RESULT_JSON" ] || [ ! -s "$WRK_RESULT_PROM" ]; then
  echo "error: wrk wrote no result (is $script the cncfdemo script?)" >&2
  exit 1
fi

if [ -n "${PUSHGATEWAY_URL:-}" ]; then
  curl --fail --silent --show-error --retry 5 --retry-connrefused --retry-delay 2 \
    --max-time 30 -X PUT -H 'Content-Type: text/plain; version=0.0.4' \
    --data-binary "@$WRK_RESULT_PROM" \
    "${PUSHGATEWAY_URL%/}/metrics/job/cncfdemo-bench/run_id/$WRK_RUN_ID/generator/$WRK_GENERATOR"
  echo "pushed to $PUSHGATEWAY_URL" >&2
fi

cat "$WRK_RESULT_JSON"
