"""Processes the benchmark suite starts, and what it reads about them.

Every process is started through start() and registered, so that
stop_all() (run on exit, on SIGINT/SIGTERM and on errors) stops exactly
the processes this run started, by their pid, last started first.
"""
import os
import signal
import subprocess
import sys
import time

CLK_TCK = os.sysconf("SC_CLK_TCK")

_started = []


class BenchError(Exception):
    """A step of the benchmark could not run (a tool or server failed)."""


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


def start(argv, stdout=None, stderr=None, cwd=None):
    """Starts argv in the background and registers it for stop_all().

    stdout/stderr are file paths (truncated) or None for /dev/null.
    Returns the Popen.
    """
    out = open(stdout, "wb") if stdout else subprocess.DEVNULL
    err = open(stderr, "wb") if stderr else subprocess.DEVNULL
    try:
        proc = subprocess.Popen(argv, stdout=out, stderr=err, cwd=cwd,
                                stdin=subprocess.DEVNULL)
    finally:
        for f in (out, err):
            if f is not subprocess.DEVNULL:
                f.close()
    _started.append(proc)
    return proc


def stop(proc, sig=signal.SIGTERM, timeout=10.0):
    """Sends sig to proc, resends it once, then SIGKILL; returns the exit
    status and how many signals it took (1 when it obeyed the first)."""
    sent = 0
    if proc.poll() is None:
        for attempt in range(2):
            proc.send_signal(sig)
            sent += 1
            try:
                proc.wait(timeout / 2)
                break
            except subprocess.TimeoutExpired:
                continue
        if proc.poll() is None:
            proc.kill()
            sent += 1
            proc.wait()
    if proc in _started:
        _started.remove(proc)
    return proc.returncode, sent


def stop_all():
    """Stops everything start() started and is still running."""
    while _started:
        proc = _started[-1]
        try:
            stop(proc, timeout=6.0)
        except OSError:
            _started.remove(proc)


def _raise_exit(signum, _frame):
    raise SystemExit(128 + signum)


def install_signal_handlers():
    """SIGINT/SIGTERM/SIGHUP unwind through the finally blocks."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, _raise_exit)


def run(argv, timeout, check=True, cwd=None):
    """Runs argv to completion; returns its stdout as text."""
    try:
        res = subprocess.run(argv, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, timeout=timeout,
                             cwd=cwd, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired as exc:
        raise BenchError("%s timed out after %d s" % (argv[0], timeout)) \
            from exc
    if check and res.returncode != 0:
        raise BenchError("%s failed (%d): %s" % (
            " ".join(argv), res.returncode,
            res.stderr.decode(errors="replace").strip()[-2000:]))
    return res.stdout.decode(errors="replace")


def wait_for(predicate, timeout, what, proc=None):
    """Polls predicate() every 10 ms until it is true."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if proc is not None and proc.poll() is not None:
            raise BenchError("%s: the process exited (%d)" %
                             (what, proc.returncode))
        if time.monotonic() > deadline:
            raise BenchError("%s: not ready after %.0f s" % (what, timeout))
        time.sleep(0.01)


def file_contains(path, text):
    try:
        with open(path, "rb") as f:
            return text.encode() in f.read()
    except FileNotFoundError:
        return False


def cpu_seconds(pid):
    """(user, system) CPU seconds of a process, all its threads."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    # fields[0] is field 3 (state): utime and stime are fields 14 and 15
    return int(fields[11]) / CLK_TCK, int(fields[12]) / CLK_TCK


def memory_kib(pid):
    """VmHWM, VmRSS, RssAnon, RssFile, RssShmem of a process, in KiB."""
    keys = ("VmHWM", "VmRSS", "RssAnon", "RssFile", "RssShmem")
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            name, _, rest = line.partition(":")
            if name in keys:
                out[name] = int(rest.split()[0])
    return out
