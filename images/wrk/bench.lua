-- cncfdemo's wrk script: one result document per load generator.
--
-- wrk calls done() once at the end of a run with its summary and its latency statistics. This
-- script turns them into
--   * a JSON document (schema "cncfdemo.wrk/v1") with the summary, every error class, wrk's own
--     latency min/mean/stdev/max and the FULL latency distribution: every recorded value (in
--     microseconds) with its count, so that several generators can be merged exactly;
--   * the same result in Prometheus text format for the Pushgateway, its latency as a histogram
--     with fixed, bounded buckets (LATENCY_BUCKETS_US, the same list as lib/bench/latency_buckets.ts):
--     Prometheus stores one series per bucket, so one per recorded microsecond value would be far
--     too many. The exact distribution travels in the JSON document (printed by the entrypoint).
--
-- The same file runs in the wrk image (images/wrk/entrypoint.sh) and in `deno task bench --local`.
--
-- Environment:
--   WRK_RESULT_JSON    file to write the JSON document to (default: print it to stdout)
--   WRK_RESULT_PROM    file to write the Prometheus text to (default: not written)
--   WRK_GENERATOR      this generator's name, copied into the document (default "g0")
--   WRK_RUN_ID         the run id, copied into the document
--   WRK_STATUS_COUNTS  "1": count responses per HTTP status. Off by default: defining response()
--                      makes wrk parse every response's headers and body, which costs throughput.
--   WRK_HISTOGRAM_CHECK "1": also read the distribution through wrk's documented latency(i) API
--                      and record whether it equals the fast read ("histogram_check").
--
-- Reading the distribution: wrk documents latency(i) → i-th recorded value and its count, but each
-- call scans the counters from the minimum, so reading all n values costs n × range. wrk keeps one
-- counter per microsecond in a plain C struct {count, limit, min, max, data[]}; LuaJIT's FFI reads
-- that array once (cost: range). The fast read is checked against the API (min, max, number of
-- distinct values, first and last pair, mean) and the API loop is used whenever anything differs.

local generator = os.getenv("WRK_GENERATOR") or "g0"
local run_id = os.getenv("WRK_RUN_ID") or ""
local want_status = os.getenv("WRK_STATUS_COUNTS") == "1"

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

if want_status then
  statuses = {}
  function response(status, headers, body)
    local key = tostring(status)
    statuses[key] = (statuses[key] or 0) + 1
  end
end

-- JSON helpers ------------------------------------------------------------------------------

local function json_string(s)
  s = tostring(s)
  s = s:gsub('[%c"\\]', function(c)
    if c == '"' then return '\\"' end
    if c == "\\" then return "\\\\" end
    if c == "\n" then return "\\n" end
    if c == "\t" then return "\\t" end
    return string.format("\\u%04x", c:byte())
  end)
  return '"' .. s .. '"'
end

local function int(n)
  return string.format("%.0f", n)
end

local function real(n)
  if n ~= n or n == math.huge or n == -math.huge then return "null" end
  return string.format("%.6f", n)
end

-- The latency distribution --------------------------------------------------------------------

-- Through the documented API: latency(i) for i = 1..#latency.
local function histogram_by_api(latency)
  local pairs_ = {}
  for i = 1, #latency do
    local v, c = latency(i)
    pairs_[i] = { v, c }
  end
  return pairs_
end

-- Through the FFI: one pass over wrk's counter array. Returns nil when it cannot be done.
local function histogram_by_ffi(latency)
  local ok, ffi = pcall(require, "ffi")
  if not ok then return nil end
  local read_ok, result = pcall(function()
    local head = ffi.cast("uint64_t **", latency)[0]
    local min, max = tonumber(head[2]), tonumber(head[3])
    local out = {}
    if min > max then return out end
    for v = min, max do
      local c = tonumber(head[4 + v])
      if c ~= 0 then out[#out + 1] = { v, c } end
    end
    return out
  end)
  if not read_ok then return nil end
  return result
end

local function same_pair(a, b)
  return a ~= nil and b ~= nil and a[1] == b[1] and a[2] == b[2]
end

-- Whether a distribution agrees with what wrk's API says about it.
local function plausible(h, latency)
  local n = #latency
  if #h ~= n then return false end
  if n == 0 then return true end
  if h[1][1] ~= latency.min or h[n][1] ~= latency.max then return false end
  local v1, c1 = latency(1)
  local vn, cn = latency(n)
  if not same_pair(h[1], { v1, c1 }) or not same_pair(h[n], { vn, cn }) then return false end
  local sum, count = 0, 0
  for _, p in ipairs(h) do
    sum = sum + p[1] * p[2]
    count = count + p[2]
  end
  local mean = sum / count
  return math.abs(mean - latency.mean) <= 1e-6 * math.max(1, latency.mean)
end

local function read_histogram(latency)
  local h = histogram_by_ffi(latency)
  if h ~= nil and plausible(h, latency) then return h, "ffi" end
  return histogram_by_api(latency), "api"
end

local function histogram_equal(a, b)
  if #a ~= #b then return false end
  for i = 1, #a do
    if not same_pair(a[i], b[i]) then return false end
  end
  return true
end

-- Per-status counts, summed over the threads.
local function status_counts()
  local total = {}
  for _, t in ipairs(threads) do
    local s = t:get("statuses") or {}
    for k, v in pairs(s) do total[k] = (total[k] or 0) + v end
  end
  return total
end

-- Output --------------------------------------------------------------------------------------

local function write_file(path, text)
  local f = assert(io.open(path, "w"))
  f:write(text)
  f:close()
end

local function to_json(summary, latency, hist, source, check, statuses_)
  local e = summary.errors
  local parts = {}
  for i, p in ipairs(hist) do parts[i] = "[" .. int(p[1]) .. "," .. int(p[2]) .. "]" end
  local recorded = 0
  for _, p in ipairs(hist) do recorded = recorded + p[2] end
  local target = string.format("%s://%s%s%s", wrk.scheme, wrk.host,
    wrk.port and (":" .. wrk.port) or "", ((wrk.path or "/"):gsub("%?.*$", "")))
  local out = {
    '{"schema":"cncfdemo.wrk/v1"',
    ',"generator":' .. json_string(generator),
    ',"run_id":' .. json_string(run_id),
    ',"target":' .. json_string(target),
    ',"ended_at_unix":' .. int(os.time()),
    ',"duration_us":' .. int(summary.duration),
    ',"requests":' .. int(summary.requests),
    ',"bytes":' .. int(summary.bytes),
    ',"errors":{"connect":' .. int(e.connect) .. ',"read":' .. int(e.read) ..
      ',"write":' .. int(e.write) .. ',"status":' .. int(e.status) ..
      ',"timeout":' .. int(e.timeout) .. "}",
    ',"latency_us":{"min":' .. (recorded > 0 and int(latency.min) or "null") ..
      ',"mean":' .. (recorded > 0 and real(latency.mean) or "null") ..
      ',"stdev":' .. (recorded > 0 and real(latency.stdev) or "null") ..
      ',"max":' .. (recorded > 0 and int(latency.max) or "null") ..
      ',"recorded":' .. int(recorded) .. "}",
    ',"histogram_source":' .. json_string(source),
  }
  if check ~= nil then out[#out + 1] = ',"histogram_check":' .. json_string(check) end
  if statuses_ ~= nil then
    local s = {}
    local keys = {}
    for k in pairs(statuses_) do keys[#keys + 1] = k end
    table.sort(keys)
    for _, k in ipairs(keys) do s[#s + 1] = json_string(k) .. ":" .. int(statuses_[k]) end
    out[#out + 1] = ',"status_counts":{' .. table.concat(s, ",") .. "}"
  end
  out[#out + 1] = ',"histogram":[' .. table.concat(parts, ",") .. "]}"
  return table.concat(out)
end

-- The histogram's bucket bounds, microseconds (1, 1.5, 2, 3, 5, 7.5 per decade, 10 µs to 10 s); +Inf
-- is added. Keep equal to LATENCY_BUCKETS_US in lib/bench/latency_buckets.ts (a test checks it).
local LATENCY_BUCKETS_US = {
  10, 15, 20, 30, 50, 75,
  100, 150, 200, 300, 500, 750,
  1000, 1500, 2000, 3000, 5000, 7500,
  10000, 15000, 20000, 30000, 50000, 75000,
  100000, 150000, 200000, 300000, 500000, 750000,
  1000000, 1500000, 2000000, 3000000, 5000000, 7500000,
  10000000,
}

-- Seconds from microseconds, exactly as text: 1234 → "0.001234".
local function seconds(us)
  return string.format("%d.%06d", math.floor(us / 1e6), us % 1e6)
end

local function to_prometheus(summary, latency, hist, statuses_)
  local e = summary.errors
  local lines = {
    "# HELP wrk_duration_seconds How long the generator ran.",
    "# TYPE wrk_duration_seconds gauge",
    "wrk_duration_seconds " .. seconds(summary.duration),
    "# HELP wrk_requests_total Requests completed.",
    "# TYPE wrk_requests_total counter",
    "wrk_requests_total " .. int(summary.requests),
    "# HELP wrk_read_bytes_total Bytes received.",
    "# TYPE wrk_read_bytes_total counter",
    "wrk_read_bytes_total " .. int(summary.bytes),
    "# HELP wrk_errors_total Errors by class (status: HTTP status above 399).",
    "# TYPE wrk_errors_total counter",
  }
  for _, class in ipairs({ "connect", "read", "write", "status", "timeout" }) do
    lines[#lines + 1] = 'wrk_errors_total{class="' .. class .. '"} ' .. int(e[class])
  end
  local recorded = 0
  for _, p in ipairs(hist) do recorded = recorded + p[2] end
  if recorded > 0 then
    lines[#lines + 1] = "# HELP wrk_latency_stat_seconds wrk's own latency statistics."
    lines[#lines + 1] = "# TYPE wrk_latency_stat_seconds gauge"
    lines[#lines + 1] = 'wrk_latency_stat_seconds{stat="min"} ' .. seconds(latency.min)
    lines[#lines + 1] = 'wrk_latency_stat_seconds{stat="mean"} ' ..
      string.format("%.9f", latency.mean / 1e6)
    lines[#lines + 1] = 'wrk_latency_stat_seconds{stat="stdev"} ' ..
      string.format("%.9f", latency.stdev / 1e6)
    lines[#lines + 1] = 'wrk_latency_stat_seconds{stat="max"} ' .. seconds(latency.max)
  end
  lines[#lines + 1] = "# HELP wrk_latency_seconds Request latency (wrk's recorded values, bounded buckets)."
  lines[#lines + 1] = "# TYPE wrk_latency_seconds histogram"
  local cumulative, sum, i = 0, 0, 1
  for _, le in ipairs(LATENCY_BUCKETS_US) do
    while i <= #hist and hist[i][1] <= le do
      cumulative = cumulative + hist[i][2]
      sum = sum + hist[i][1] * hist[i][2]
      i = i + 1
    end
    lines[#lines + 1] = 'wrk_latency_seconds_bucket{le="' .. seconds(le) .. '"} ' .. int(cumulative)
  end
  while i <= #hist do
    cumulative = cumulative + hist[i][2]
    sum = sum + hist[i][1] * hist[i][2]
    i = i + 1
  end
  lines[#lines + 1] = 'wrk_latency_seconds_bucket{le="+Inf"} ' .. int(cumulative)
  lines[#lines + 1] = "wrk_latency_seconds_sum " .. string.format("%.6f", sum / 1e6)
  lines[#lines + 1] = "wrk_latency_seconds_count " .. int(cumulative)
  if statuses_ ~= nil then
    lines[#lines + 1] = "# HELP wrk_responses_total Responses by HTTP status."
    lines[#lines + 1] = "# TYPE wrk_responses_total counter"
    local keys = {}
    for k in pairs(statuses_) do keys[#keys + 1] = k end
    table.sort(keys)
    for _, k in ipairs(keys) do
      lines[#lines + 1] = 'wrk_responses_total{status="' .. k .. '"} ' .. int(statuses_[k])
    end
  end
  return table.concat(lines, "\n") .. "\n"
end

function done(summary, latency, requests)
  local hist, source = read_histogram(latency)
  local check = nil
  if os.getenv("WRK_HISTOGRAM_CHECK") == "1" then
    check = histogram_equal(hist, histogram_by_api(latency)) and "equal" or "different"
  end
  local statuses_ = want_status and status_counts() or nil
  local json = to_json(summary, latency, hist, source, check, statuses_)
  local json_path = os.getenv("WRK_RESULT_JSON")
  if json_path and json_path ~= "" then
    write_file(json_path, json .. "\n")
  else
    io.write(json, "\n")
  end
  local prom_path = os.getenv("WRK_RESULT_PROM")
  if prom_path and prom_path ~= "" then
    write_file(prom_path, to_prometheus(summary, latency, hist, statuses_))
  end
end
