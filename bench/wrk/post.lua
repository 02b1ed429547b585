-- wrk: POSTs one signed body over and over (the URL challenge), its headers from the
-- environment: WRK_BODY, WRK_TIMESTAMP, WRK_SIGNATURE. Used by scripts/bench.
wrk.method = "POST"
wrk.body = os.getenv("WRK_BODY")
wrk.headers["Content-Type"] = "application/json"
wrk.headers["x-zm-request-timestamp"] = os.getenv("WRK_TIMESTAMP")
wrk.headers["x-zm-signature"] = os.getenv("WRK_SIGNATURE")

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests": %d, "duration_us": %d, "non_2xx": %d, "socket_errors": %d, ' ..
    '"p50_ms": %.3f, "p99_ms": %.3f}\n',
    summary.requests, summary.duration, e.status, e.connect + e.read + e.write + e.timeout,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
