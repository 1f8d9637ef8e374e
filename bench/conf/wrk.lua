-- wrk script for the benchmark suite (bench/run.sh).
--
--   wrk -t2 -c32 -d5s -s wrk.lua URL -- [rate=R threads=T] [docs=N]
--
-- done() prints one line "BENCH_JSON {...}" with the exact counts and
-- latency percentiles (microseconds), so nothing parses wrk's text.
--
-- rate=R: fixed offered load of R requests/s in total (wrk itself only
-- saturates; wrk2 is not packaged in Debian). Each thread owns R/T
-- request slots per second on an absolute schedule; a connection that
-- gets its response takes the next slot and waits for it via wrk's
-- delay() hook. wrk only takes whole milliseconds, so a request can leave
-- up to 1 ms early, but the schedule is absolute, so the mean rate is
-- exact; wrk measures latency from the moment the request is written, so
-- the wait is not counted. The rate holds as long as connections x
-- (1000 / latency-in-ms) exceeds R.
--
-- docs=N: request /api/v1/items/1 .. N in turn instead of the URL's path
-- (distinct JSON bodies, for an honest compression ratio). Thread k of T
-- takes documents k, k+T, k+2T..., so that no document repeats within
-- N requests (the session writer compresses 1 MiB frames independently;
-- N larger than a frame's worth of exchanges keeps repeats out of them).
--
-- delay and request are defined only when asked for: wrk checks for them
-- after init(), and without them it sends a static request with no Lua
-- call per request.

local ffi = require("ffi")
ffi.cdef [[
struct bench_timespec { long tv_sec; long tv_nsec; };
int clock_gettime(int clk, struct bench_timespec *ts);
]]
local CLOCK_MONOTONIC = 1
local ts = ffi.new("struct bench_timespec")

local function now_ms()
	ffi.C.clock_gettime(CLOCK_MONOTONIC, ts)
	return tonumber(ts.tv_sec) * 1000 + tonumber(ts.tv_nsec) / 1e6
end

local function parse(args)
	local opts = {}
	for _, a in ipairs(args) do
		local k, v = a:match("^(%w+)=(.+)$")
		if not k then
			error("wrk.lua: bad argument '" .. a .. "' (want key=value)")
		end
		opts[k] = tonumber(v)
	end
	return opts
end

-- Falling further behind than this (a stall) restarts the schedule
-- instead of bursting to catch up.
local MAX_BEHIND_MS = 50

local function make_delay(interval_ms)
	local start, slot = nil, 0
	return function()
		local now = now_ms()
		if not start then
			start = now
		end
		slot = slot + 1
		local wait = start + slot * interval_ms - now
		if wait < -MAX_BEHIND_MS then
			start = now - slot * interval_ms
			wait = 0
		end
		return wait > 0 and wait or 0
	end
end

local function make_request(ndocs, first, step)
	local reqs, i = {}, 0
	for n = first, ndocs, step do
		reqs[#reqs + 1] = wrk.format("GET", "/api/v1/items/" .. n)
	end
	return function()
		i = i % #reqs + 1
		return reqs[i]
	end
end

-- Runs in wrk's main Lua state once per thread, before init().
local threads_set_up = 0
function setup(thread)
	threads_set_up = threads_set_up + 1
	thread:set("thread_index", threads_set_up)
end

function init(args)
	local opts = parse(args)
	if opts.rate then
		local per_thread = opts.rate / (opts.threads or 1)
		delay = make_delay(1000 / per_thread)
	end
	if opts.docs then
		request = make_request(opts.docs, thread_index,
				       opts.threads or 1)
	end
end

function done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format(
		'BENCH_JSON {"requests":%d,"duration_us":%d,"bytes":%d,' ..
		'"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,' ..
		'"timeout":%d},"latency_us":{"mean":%.1f,"max":%d,' ..
		'"p50":%d,"p90":%d,"p99":%d,"p999":%d}}\n',
		summary.requests, summary.duration, summary.bytes,
		e.connect, e.read, e.write, e.status, e.timeout,
		latency.mean, latency.max,
		latency:percentile(50), latency:percentile(90),
		latency:percentile(99), latency:percentile(99.9)))
end
