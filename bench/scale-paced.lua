-- bench/wrk/workload.lua at a modest pace, for bench/scale's refresh load
-- during pruning: each connection waits BENCH_PACE_MS milliseconds before
-- each of its requests (wrk's delay hook), so the load is a steady trickle
-- rather than as much as the server can take. The latency wrk reports
-- leaves the wait out.
dofile(os.getenv("BENCH_WORKLOAD"))

local pace = tonumber(os.getenv("BENCH_PACE_MS") or "20")

function delay()
  return pace
end
