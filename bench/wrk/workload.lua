-- The wrk script for every single-request workload of bench/run, set up
-- through the environment so one script serves both providers:
--   BENCH_METHOD   GET (default) or POST
--   BENCH_BODY     request body (sent as a form)
--   BENCH_AUTH     Authorization header value
--   BENCH_REFRESH_TOKENS, BENCH_THREADS
--                  chained refresh-token rotation (see below)
-- done() prints one line "WRK_JSON {...}" that bench/run reads.

local method = os.getenv("BENCH_METHOD") or "GET"
local body = os.getenv("BENCH_BODY")
local auth = os.getenv("BENCH_AUTH")
local tokens_file = os.getenv("BENCH_REFRESH_TOKENS")

wrk.method = method
wrk.headers["Accept"] = "application/json"
if auth then
  wrk.headers["Authorization"] = auth
end
if method == "POST" then
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end
if body then
  wrk.body = body
end

local threads = {}

-- Refresh-token rotation. Each refresh token works once: rotation retires
-- it, and presenting it again is treated as theft and revokes its whole
-- family. So every request must carry a token that has never been sent.
-- Pre-minting one token per request would need as many code flows as the
-- run will make requests, a number unknown before it ends; instead each
-- request uses the token that an earlier response returned, as a real
-- client does. wrk does not say which connection a response belongs to, so
-- each thread keeps a queue: it starts with one token (one family) per
-- connection, a request takes a token from the queue, and its response puts
-- the new one back. wrk reads a connection's response before building that
-- connection's next request, so the queue never runs dry while requests
-- succeed, and no token is ever sent twice. A failed refresh loses its
-- family; once a thread has none left it sends a token that cannot exist,
-- which fails and is counted, rather than replaying a used one.
local refresh_mode = tokens_file ~= nil

local thread_count = tonumber(os.getenv("BENCH_THREADS") or "1")
local all_tokens = nil
local next_thread = 0

function setup(thread)
  next_thread = next_thread + 1
  table.insert(threads, thread)
  if refresh_mode then
    if all_tokens == nil then
      all_tokens = {}
      for line in io.lines(tokens_file) do
        if line ~= "" then
          table.insert(all_tokens, line)
        end
      end
    end
    local mine = {}
    for i, token in ipairs(all_tokens) do
      if (i - 1) % thread_count == next_thread - 1 then
        table.insert(mine, token)
      end
    end
    thread:set("tokens", table.concat(mine, ","))
    thread:set("first_thread", next_thread == 1)
  end
end

if refresh_mode then
  local queue, head, tail = {}, 1, 0
  ok, failed, first_failure = 0, 0, nil

  function init(args)
    for token in string.gmatch(tokens or "", "[^,]+") do
      tail = tail + 1
      queue[tail] = token
    end
  end

  -- wrk builds one request on the first thread before any connection opens,
  -- only to check its format, and throws it away: that call must not take a
  -- token, or its family would be lost unused.
  local format_check = nil

  function request()
    if format_check == nil then
      format_check = first_thread
    end
    if format_check then
      format_check = false
      return wrk.format(nil, nil, nil, "grant_type=refresh_token&refresh_token=format-check")
    end
    local token = "exhausted-no-family-left"
    if head <= tail then
      token = queue[head]
      queue[head] = nil
      head = head + 1
    end
    return wrk.format(nil, nil, nil, "grant_type=refresh_token&refresh_token=" .. token)
  end

  function response(status, headers, response_body)
    local new = nil
    if status == 200 then
      new = string.match(response_body, '"refresh_token"%s*:%s*"([^"]+)"')
    end
    if new then
      ok = ok + 1
      tail = tail + 1
      queue[tail] = new
    else
      failed = failed + 1
      if first_failure == nil then
        first_failure = status .. " " .. string.sub(response_body, 1, 200)
      end
    end
  end
end

function done(summary, latency, requests)
  local ok_total, failed_total = 0, 0
  for _, thread in ipairs(threads) do
    ok_total = ok_total + (thread:get("ok") or 0)
    failed_total = failed_total + (thread:get("failed") or 0)
    local why = thread:get("first_failure")
    if why then
      io.write("WRK_FIRST_FAILURE " .. string.gsub(why, "\n", " ") .. "\n")
    end
  end
  local e = summary.errors
  io.write(string.format(
    'WRK_JSON {"requests":%d,"duration_us":%d,"p50_us":%d,"p99_us":%d,"errors_status":%d,' ..
    '"errors_connect":%d,"errors_read":%d,"errors_write":%d,"errors_timeout":%d,' ..
    '"chained_ok":%d,"chained_failed":%d}\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status, e.connect, e.read, e.write, e.timeout, ok_total, failed_total))
end
