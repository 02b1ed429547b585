-- wrk: POSTs distinct signed webhooks read from WRK_EVENTS (lines of
-- "timestamp<TAB>signature<TAB>body", written by bench/events.py), each of the WRK_THREADS
-- threads its own share in file order, so that no event is sent twice unless a share runs
-- out (then it starts over, and done() reports how many requests were repeats).
local threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  local count = tonumber(os.getenv("WRK_THREADS"))
  local file = assert(io.open(os.getenv("WRK_EVENTS"), "r"))
  prepared = {}
  local i = 0
  for line in file:lines() do
    if i % count == id then
      local ts, sig, body = line:match("^(%d+)\t([^\t]+)\t(.*)$")
      prepared[#prepared + 1] = wrk.format("POST", nil, {
        ["Content-Type"] = "application/json",
        ["x-zm-request-timestamp"] = ts,
        ["x-zm-signature"] = sig,
      }, body)
    end
    i = i + 1
  end
  file:close()
  sent = 0
  repeats = 0
end

function request()
  sent = sent + 1
  if sent > #prepared then
    repeats = repeats + 1
  end
  return prepared[(sent - 1) % #prepared + 1]
end

function done(summary, latency, requests)
  local repeated = 0
  for _, thread in ipairs(threads) do
    repeated = repeated + (thread:get("repeats") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "non_2xx": %d, "socket_errors": %d, ' ..
    '"p50_ms": %.3f, "p99_ms": %.3f, "repeats": %d}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, repeated))
end
