"""The capturers the suite compares: `deetune record`, tcpdump and
`deetune daemon` (idle, or recording through a task).

All are used the same way:

    cap = Recorder(deetune, "/dev/shm/run1", "port:18480", settle=0.5)
    cap.start()
    ... load ...
    result = cap.stop()      # a dict of figures

and all report the CPU they used between start() returning and stop()
being called, and their peak memory.
"""
import contextlib
import json
import os
import re
import signal
import socket
import time

import procs

BPF_STATS = "/proc/sys/kernel/bpf_stats_enabled"


@contextlib.contextmanager
def bpf_stats(on=True):
    """kernel.bpf_stats_enabled=1 (or 0) for the block (on, the kernel
    times every BPF program run, which costs two clock reads per run),
    restored after. Yields False when the kernel has no such switch."""
    try:
        with open(BPF_STATS) as f:
            old = f.read().strip()
    except OSError:
        yield False
        return
    with open(BPF_STATS, "w") as f:
        f.write("1" if on else "0")
    try:
        yield True
    finally:
        with open(BPF_STATS, "w") as f:
            f.write(old)


TRACING_TYPES = ("tracing", "raw_tracepoint", "tracepoint", "kprobe",
                 "perf_event")


def _progs():
    return json.loads(procs.run(["bpftool", "prog", "show", "-j"], 30)
                      or "[]")


def prog_names():
    """BPF program names by id (bpftool)."""
    return {p["id"]: p.get("name", "?") for p in _progs()}


def tracing_programs():
    """{id: name} of the BPF tracing programs loaded now: another
    recorder or tracer slows every condition, the baseline included."""
    return {p["id"]: p.get("name", "?") for p in _progs()
            if p.get("type") in TRACING_TYPES}


def prog_delta(before, after):
    """Per-program run counts and times between two prog_stats(), by
    program name, and the total time in ns."""
    names = prog_names()
    progs, total = {}, 0
    for pid_, st in after.items():
        cnt = st["run_cnt"] - before[pid_]["run_cnt"]
        ns = st["run_time_ns"] - before[pid_]["run_time_ns"]
        total += ns
        progs[names.get(pid_, str(pid_))] = {
            "run_cnt": cnt, "run_time_ns": ns,
            "ns_per_run": ns / cnt if cnt else None}
    return progs, total


def inspect_session(deetune, session):
    """What `deetune inspect --json` says of a finished session: drop
    counters, flags, protocols, the bytes and events captured."""
    info = json.loads(procs.run([deetune, "inspect", "--json", session],
                                120))
    stats = info.get("stats", {})
    return {
        "drops": {k.split(".", 1)[1]: v for k, v in stats.items()
                  if k.startswith("drops.")},
        "captured_bytes": stats.get("bytes"),
        "events": stats.get("events"),
        "buffered_bytes_max": stats.get("buffered_bytes_max"),
        "flags": info.get("flags", {}),
        "protocols": info.get("protocols", {}),
        "session": session,
    }


class Capturer:
    name = "?"

    def __init__(self, path_stem):
        self.path_stem = path_stem
        self.proc = None
        self.cpu0 = None
        self.t0 = None

    def _begin_window(self):
        self.cpu0 = procs.cpu_seconds(self.proc.pid)
        self.t0 = time.monotonic()

    def _end_window(self):
        """CPU and memory figures for the window; call before stopping."""
        user, system = procs.cpu_seconds(self.proc.pid)
        secs = time.monotonic() - self.t0
        user -= self.cpu0[0]
        system -= self.cpu0[1]
        mem = procs.memory_kib(self.proc.pid)
        return {
            "window_s": secs,
            "cpu_user_s": user,
            "cpu_system_s": system,
            "cpu_cores": (user + system) / secs if secs > 0 else None,
            "cpu_user_cores": user / secs if secs > 0 else None,
            "peak_rss_kib": mem.get("VmHWM"),
            "rss_kib": mem,
        }

    def prog_stats(self):
        """run_time_ns and run_cnt of this capturer's BPF programs, by
        program id (from /proc/PID/fdinfo; zero unless
        kernel.bpf_stats_enabled is 1)."""
        stats = {}
        fddir = "/proc/%d/fdinfo" % self.proc.pid
        for fd in os.listdir(fddir):
            try:
                with open(os.path.join(fddir, fd)) as f:
                    text = f.read()
            except OSError:
                continue
            if "run_cnt:" not in text or "link_type" in text:
                continue
            fields = dict(re.findall(r"^(\w+):\s*(\S+)", text, re.M))
            stats[int(fields["prog_id"])] = {
                "run_time_ns": int(fields["run_time_ns"]),
                "run_cnt": int(fields["run_cnt"]),
            }
        return stats

    def _bpf_window(self, res):
        """BPF program time in the window, when bpf_stats is on: it is
        charged to the traced processes, not to the capturer."""
        progs, total = prog_delta(self.bpf0, self.prog_stats())
        if not any(p["run_cnt"] and p["run_time_ns"] for p in
                   progs.values()):
            return
        res["bpf"] = progs
        res["bpf_cores"] = total / 1e9 / res["window_s"]


class Recorder(Capturer):
    """`deetune record --server SEL -o FILE`."""
    name = "deetune"

    def __init__(self, deetune, path_stem, selector, settle):
        super().__init__(path_stem)
        self.deetune = deetune
        self.selector = selector
        self.settle = settle
        self.session = path_stem + ".dtsess"
        self.log = path_stem + ".record.log"

    def start(self):
        self.proc = procs.start(
            [self.deetune, "record", "--server", self.selector,
             "-o", self.session], stderr=self.log)
        procs.wait_for(lambda: procs.file_contains(self.log, "recording:"),
                       20, "deetune record", self.proc)
        # See bench/README.md, "start race": load that begins right after
        # `recording:` is sometimes not captured for ~0.1-0.2 s.
        time.sleep(self.settle)
        self._begin_window()
        self.bpf0 = self.prog_stats()

    def stop(self):
        res = self._end_window()
        self._bpf_window(res)
        rc, signals = procs.stop(self.proc, signal.SIGINT, timeout=10)
        res["stop_signals"] = signals
        with open(self.log, errors="replace") as f:
            text = f.read()
        m = re.search(r"recorded: (\d+) exchanges, (\d+) bytes written, "
                      r"(\d+) dropped events, (\d+) incomplete", text)
        if rc != 0 or not m:
            raise procs.BenchError("deetune record failed (%s): %s" %
                                   (rc, text.strip()[-2000:]))
        res.update(exchanges=int(m.group(1)), file_bytes=int(m.group(2)),
                   dropped_events=int(m.group(3)), incomplete=int(m.group(4)))
        res.update(inspect_session(self.deetune, self.session))
        return res


class Tcpdump(Capturer):
    """`tcpdump -i lo -w FILE tcp port N`, buffered (not --immediate-mode):
    the way one records traffic for GoReplay/tcpcopy-style replay. It
    runs as root (-Z root) so it can write into the private work dir."""
    name = "tcpdump"

    def __init__(self, path_stem, port):
        super().__init__(path_stem)
        self.port = port
        self.pcap = path_stem + ".pcap"
        self.log = path_stem + ".tcpdump.log"

    def start(self):
        self.proc = procs.start(
            ["tcpdump", "-i", "lo", "-s", "0", "-B", "16384", "-n", "-Z",
             "root", "-w", self.pcap, "tcp port %d" % self.port],
            stderr=self.log)
        procs.wait_for(lambda: procs.file_contains(self.log, "listening on"),
                       20, "tcpdump", self.proc)
        self._begin_window()

    def stop(self):
        res = self._end_window()
        rc, signals = procs.stop(self.proc, signal.SIGINT, timeout=10)
        res["stop_signals"] = signals
        with open(self.log, errors="replace") as f:
            text = f.read()
        counts = {}
        for key, pattern in (("captured", r"(\d+) packets? captured"),
                             ("received", r"(\d+) packets? received by"),
                             ("dropped", r"(\d+) packets? dropped by kernel")):
            m = re.search(pattern, text)
            counts[key] = int(m.group(1)) if m else None
        if rc != 0 or counts["captured"] is None:
            raise procs.BenchError("tcpdump failed (%s): %s" %
                                   (rc, text.strip()[-2000:]))
        res["packets"] = counts
        res["file_bytes"] = os.path.getsize(self.pcap)
        return res


def daemon_request(sock_path, request, timeout=10):
    """One request on the daemon's control socket (one JSON object a
    line each way, deetune-daemon(8)); returns the response."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(timeout)
        sock.connect(sock_path)
        sock.sendall(json.dumps(request).encode() + b"\n")
        buf = b""
        while not buf.endswith(b"\n"):
            block = sock.recv(65536)
            if not block:
                break
            buf += block
    resp = json.loads(buf or b"{}")
    if not resp.get("ok"):
        raise procs.BenchError("deetune daemon refused %s: %s" % (
            request.get("op"), resp.get("error", buf[:200])))
    return resp


class Daemon(Capturer):
    """`deetune daemon --no-http` on a private socket and state directory
    (nothing else talks to it). With a selector it records through one
    task, `deetune task start --server SEL [--duration D]`, started before
    the load like `deetune record`; without, it idles: probes attached,
    no task. stop() waits for a task with a duration to end by itself
    (`task wait`), stops one without (`task stop`), then SIGTERMs the
    daemon."""
    name = "daemon"

    def __init__(self, deetune, path_stem, selector, settle, duration=None,
                 max_memory=None):
        super().__init__(path_stem)
        self.deetune = deetune
        self.selector = selector
        self.settle = settle
        self.duration = duration
        self.max_memory = max_memory
        self.socket = path_stem + ".sock"
        self.state_dir = path_stem + ".state"
        self.log = path_stem + ".daemon.log"
        self.session = path_stem + ".dtsess" if selector else None
        self.task_id = None

    def _task(self, *args):
        """`deetune task ARGS --json` on this daemon: the task object."""
        out = procs.run([self.deetune, "task", "--socket", self.socket] +
                        list(args) + ["--json"], 60)
        return json.loads(out)

    def start(self):
        os.makedirs(self.state_dir)
        argv = [self.deetune, "daemon", "--no-http", "--socket", self.socket,
                "--state-dir", self.state_dir]
        if self.max_memory:
            argv += ["--max-memory", self.max_memory]
        self.proc = procs.start(argv, stderr=self.log)
        procs.wait_for(lambda: procs.file_contains(self.log, "listening:"),
                       20, "deetune daemon", self.proc)
        if self.selector:
            argv = ["start", "--server", self.selector, "-o", self.session]
            if self.duration:
                argv += ["--duration", "%dms" % (self.duration * 1000)]
            self.task_id = self._task(*argv)["id"]
        # the same settling time as `deetune record` gets (start race)
        time.sleep(self.settle)
        self._begin_window()
        self.bpf0 = self.prog_stats()

    def status(self):
        """The daemon's `status` op: rss_bytes, buffered_bytes, drops..."""
        return daemon_request(self.socket, {"op": "status"})["daemon"]

    def _end_task(self, res):
        op = "wait" if self.duration else "stop"
        task = self._task(op, str(self.task_id))
        if task["state"] not in ("done", "stopped"):
            raise procs.BenchError("task %d ended %s: %s" % (
                self.task_id, task["state"], task.get("reason")))
        res["task"] = task
        res.update(inspect_session(self.deetune, self.session))
        res.update(exchanges=task["exchanges"],
                   file_bytes=task["bytes_written"], drops=task["drops"],
                   incomplete=res["flags"].get("incomplete", 0))
        res["dropped_events"] = sum(v for k, v in task["drops"].items()
                                    if k != "sampled_out")

    def stop(self):
        res = self._end_window()
        self._bpf_window(res)
        res["status"] = self.status()
        if self.task_id is not None:
            self._end_task(res)
        res["peak_rss_kib"] = procs.memory_kib(self.proc.pid)["VmHWM"]
        rc, signals = procs.stop(self.proc, signal.SIGTERM, timeout=10)
        res["stop_signals"] = signals
        if rc != 0:
            with open(self.log, errors="replace") as f:
                raise procs.BenchError("deetune daemon failed (%s): %s" % (
                    rc, f.read().strip()[-2000:]))
        return res


def make(kind, deetune, path_stem, port, settle, duration=None):
    """A capturer for a condition name: None, "deetune", "tcpdump",
    "daemon" (a task on port, ending after duration s) or "daemon-idle"
    (no task)."""
    if kind == "deetune":
        return Recorder(deetune, path_stem, "port:%d" % port, settle)
    if kind == "tcpdump":
        return Tcpdump(path_stem, port)
    if kind == "daemon":
        return Daemon(deetune, path_stem, "port:%d" % port, settle,
                      duration)
    if kind == "daemon-idle":
        return Daemon(deetune, path_stem, None, settle)
    return None
