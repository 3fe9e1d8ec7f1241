-- wrk script of `make bench`: replays pre-signed Twilio webhooks from a file (one per line:
-- path TAB signature TAB body), each thread its share, each request once; `cycle` repeats them.
-- Prints one JSON line: requests, seconds, p50/p99 in ms, non-2xx answers, socket errors.
local threads = {}
local counter = 0

function setup(thread)
  thread:set("id", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local file, nthreads, cycle = args[1], tonumber(args[2]), args[3] == "cycle"
  reqs, idx, answered, repeat_all = {}, 0, 0, cycle
  local i = 0
  for line in io.lines(file) do
    if cycle or i % nthreads == id then
      local path, sig, body = line:match("^([^\t]*)\t([^\t]*)\t(.*)$")
      table.insert(reqs, wrk.format("POST", path, {
        ["Content-Type"] = "application/x-www-form-urlencoded",
        ["X-Twilio-Signature"] = sig,
      }, body))
    end
    i = i + 1
  end
end

function request()
  idx = idx + 1
  if repeat_all then
    return reqs[(idx - 1) % #reqs + 1]
  end
  return reqs[math.min(idx, #reqs)]
end

function response(status, headers, body)
  answered = answered + 1
  if not repeat_all and answered >= #reqs then
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "seconds": %.4f, "p50_ms": %.3f, "p99_ms": %.3f, "non2xx": %d, "socket_errors": %d}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    e.status, e.connect + e.read + e.write + e.timeout))
end
