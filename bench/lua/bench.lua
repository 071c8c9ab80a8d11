-- wrk script for bench/run.py. Configured by environment variables:
--   BENCH_METHOD   GET | POST (default GET)
--   BENCH_BODY     request body (application/x-www-form-urlencoded), for POST
--   BENCH_AUTH     Authorization header value ("Basic ...")
--   BENCH_REFRESH  a file of refresh tokens, one a line: refresh-token mode (below)
--   BENCH_CODE     the /authorize path and query: authorization-code mode (below), with
--                  BENCH_COOKIE (the SSO session's cookies), BENCH_REDIRECT_URI and
--                  BENCH_VERIFIER (PKCE)
--   BENCH_EXPECT   plain mode: a string every 200 response's body must contain
--   BENCH_THREADS  wrk's -t (default 1)
--
-- Every response is checked in a `response` hook: plain mode counts the ones that are not
-- 200 or lack BENCH_EXPECT. `done` prints one line "BENCH_JSON {...}" with the counts and the latency percentiles
-- (microseconds) that bench/run.py parses.
--
-- Refresh-token mode: refresh tokens rotate, so every request needs a live one. The thread
-- keeps a queue of live tokens, seeded from BENCH_REFRESH (pre-minted by full code flows,
-- more than there are connections); each request takes one and each 200 response puts its
-- successor back. wrk calls `response` for a connection's reply before `request` for that
-- connection's next request, so the queue only runs dry if requests fail.
--
-- Authorization-code mode: a full code flow with an existing SSO session is two requests,
-- GET /authorize with the session cookie (-> 302/303 to the redirect URI with a code) and
-- POST /token redeeming the code (PKCE, Basic auth; -> 200 with an ID token). Each
-- redirect's code goes into a queue; a connection's next request redeems a queued code if
-- there is one, else starts a new flow. A flow counts when its token response is a 200 with
-- an id_token; anything else (a 200 from /authorize: a login page) is a failure.

local method = os.getenv("BENCH_METHOD") or "GET"
local body = os.getenv("BENCH_BODY")
local auth = os.getenv("BENCH_AUTH")
local refresh_file = os.getenv("BENCH_REFRESH")
local authorize_path = os.getenv("BENCH_CODE")
local nthreads = tonumber(os.getenv("BENCH_THREADS") or "1")

local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

non200 = 0 -- failed responses
exhausted = 0 -- refresh mode: requests sent with no live token left
flows = 0 -- code mode: completed flows
local queue = {}

local form = { ["Content-Type"] = "application/x-www-form-urlencoded", ["Authorization"] = auth }

wrk.method = method
if body then
  wrk.body = body
  wrk.headers["Content-Type"] = "application/x-www-form-urlencoded"
end
if auth then
  wrk.headers["Authorization"] = auth
end

-- wrk decides from the main script state, before any thread's init runs, whether a script
-- builds each request itself (a global `request`): so it is defined here, at load time.
if refresh_file then
  function init(args)
    local n = 0
    for line in io.lines(refresh_file) do
      if line ~= "" then
        if n % nthreads == id then
          table.insert(queue, line)
        end
        n = n + 1
      end
    end
  end

  function request()
    local token = table.remove(queue)
    if token == nil then
      exhausted = exhausted + 1
      token = "exhausted"
    end
    return wrk.format("POST", wrk.path, form, "grant_type=refresh_token&refresh_token=" .. token)
  end

  function response(status, _, response_body)
    local successor = status == 200
      and string.match(response_body, '"refresh_token"%s*:%s*"([^"]+)"')
    if successor then
      table.insert(queue, successor)
    else
      non200 = non200 + 1
    end
  end
elseif authorize_path then
  local browser = { ["Cookie"] = os.getenv("BENCH_COOKIE") or "" }
  local redirect_uri = os.getenv("BENCH_REDIRECT_URI")
  local token_path = wrk.path -- the URL given to wrk is the token endpoint
  local redeem = "grant_type=authorization_code&redirect_uri="
    .. string.gsub(redirect_uri, "[^%w%-_%.~]", function(c)
      return string.format("%%%02X", string.byte(c))
    end)
    .. "&code_verifier=" .. os.getenv("BENCH_VERIFIER") .. "&code="

  function request()
    local code = table.remove(queue)
    if code then
      return wrk.format("POST", token_path, form, redeem .. code)
    end
    return wrk.format("GET", authorize_path, browser)
  end

  function response(status, headers, response_body)
    if status == 302 or status == 303 then
      local location = headers["Location"] or headers["location"] or ""
      local code = string.find(location, redirect_uri, 1, true) == 1
        and string.match(location, "[?&]code=([^&#]+)")
      if code then
        table.insert(queue, code)
        return
      end
    elseif status == 200 and string.find(response_body, '"id_token"', 1, true) then
      flows = flows + 1
      return
    end
    non200 = non200 + 1
  end
else
  local expect = os.getenv("BENCH_EXPECT")

  function response(status, _, response_body)
    if status ~= 200 or (expect and not string.find(response_body, expect, 1, true)) then
      non200 = non200 + 1
    end
  end
end

function done(summary, latency, requests)
  local bad, dry, completed = 0, 0, 0
  for _, thread in ipairs(threads) do
    bad = bad + (thread:get("non200") or 0)
    dry = dry + (thread:get("exhausted") or 0)
    completed = completed + (thread:get("flows") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,"non200":%d,"exhausted":%d,'
      .. '"flows":%d,"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,"timeout":%d},'
      .. '"latency_us":{"p50":%d,"p90":%d,"p99":%d,"mean":%.1f,"max":%d}}\n',
    summary.requests, summary.duration, summary.bytes, bad, dry, completed,
    e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency.mean, latency.max
  ))
end
