-- wrk script for `make bench` (bench/run_bench.py): every request is a different search.
--
--   wrk -t2 -c16 -d60s --latency -s bench/wrk_search.lua http://127.0.0.1:8090 -- PATHS_FILE 2
--
-- (the second argument after -- is the number of threads, -t)
-- PATHS_FILE holds one request path per line ("/api/v1/search?q=...&page_size=20"), each
-- query distinct, so no request is answered from the ranking or query-vector cache. Thread
-- i of n takes lines i, i+n, i+2n, ... (no two threads send the same query); a thread that
-- runs out starts over from its first line. done() prints one JSON line that run_bench.py
-- reads (latencies in microseconds).

local threads = {}
local counter = 0

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local file = assert(io.open(args[1], "r"), "cannot open " .. tostring(args[1]))
  paths = {}
  local line_no = 0
  for line in file:lines() do
    if line ~= "" then
      if line_no % tonumber(args[2] or "1") == tid then
        table.insert(paths, line)
      end
      line_no = line_no + 1
    end
  end
  file:close()
  position = 0
  non200 = 0
end

function request()
  position = position + 1
  if position > #paths then
    position = 1
  end
  return wrk.format("GET", paths[position])
end

function response(status, headers, body)
  if status ~= 200 then
    non200 = non200 + 1
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  local non_ok = 0
  for _, thread in ipairs(threads) do
    non_ok = non_ok + (thread:get("non200") or 0)
  end
  io.write(string.format(
    "WRK_JSON {\"requests\": %d, \"duration_us\": %d, \"bytes\": %d, "
      .. "\"connect_errors\": %d, \"read_errors\": %d, \"write_errors\": %d, "
      .. "\"status_errors\": %d, \"timeouts\": %d, \"non200\": %d, "
      .. "\"p50_us\": %d, \"p90_us\": %d, \"p95_us\": %d, \"p99_us\": %d, "
      .. "\"max_us\": %d, \"mean_us\": %.1f}\n",
    summary.requests, summary.duration, summary.bytes,
    e.connect, e.read, e.write, e.status, e.timeout, non_ok,
    latency:percentile(50), latency:percentile(90), latency:percentile(95),
    latency:percentile(99), latency.max, latency.mean))
end
