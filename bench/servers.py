"""The servers the suite measures, each private to this run: its own
directory under the work dir, a loopback port, stopped at exit."""
import os
import socket
import subprocess
import sys
import time

import procs

HERE = os.path.dirname(os.path.abspath(__file__))
CONF = os.path.join(HERE, "conf")

# Documents behind /api/v1/items/N: more than a session frame holds
# (1 MiB / ~1.3 KiB per exchange), so none repeats within a frame.
DOCS = 4096


def render(template, dest, **values):
    with open(os.path.join(CONF, template)) as f:
        text = f.read()
    for key, val in values.items():
        text = text.replace("@%s@" % key, str(val))
    with open(dest, "w") as f:
        f.write(text)


def port_free(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


def port_open(port):
    return not port_free(port)


def http_ok(port, path):
    try:
        with socket.create_connection(("127.0.0.1", port), 1) as s:
            s.sendall(("GET %s HTTP/1.0\r\nHost: x\r\n\r\n" % path).encode())
            return s.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


class Nginx:
    def __init__(self, work, port):
        self.dir = os.path.join(work, "nginx")
        self.port = port
        self.url = "http://127.0.0.1:%d/api/v1/items" % port
        self.access_log = os.path.join(self.dir, "access.log")

    def start(self):
        os.makedirs(os.path.join(self.dir, "tmp"))
        procs.run([sys.executable, os.path.join(HERE, "gendocs.py"),
                   os.path.join(self.dir, "www"), str(DOCS)], 120)
        conf = os.path.join(self.dir, "nginx.conf")
        render("nginx.conf.in", conf, DIR=self.dir, PORT=self.port)
        procs.start(["nginx", "-p", self.dir, "-c", conf,
                     "-e", os.path.join(self.dir, "error.log")],
                    stderr=os.path.join(self.dir, "stderr"))
        procs.wait_for(lambda: http_ok(self.port, "/api/v1/items/1"), 20,
                       "nginx")

    def reset_log(self):
        """Empties the access log (nginx appends with O_APPEND)."""
        os.truncate(self.access_log, 0)

    def logged_requests(self):
        """Requests nginx logged since reset_log()."""
        count = 0
        with open(self.access_log, "rb") as f:
            while True:
                block = f.read(1 << 20)
                if not block:
                    return count
                count += block.count(b"\n")


class Redis:
    def __init__(self, work, port):
        self.dir = os.path.join(work, "redis")
        self.port = port

    def start(self):
        os.makedirs(self.dir)
        conf = os.path.join(self.dir, "redis.conf")
        render("redis.conf.in", conf, DIR=self.dir, PORT=self.port)
        procs.start(["redis-server", conf],
                    stderr=os.path.join(self.dir, "stderr"))
        procs.wait_for(lambda: self._cli("PING").strip() == "PONG", 20,
                       "redis-server")

    def _cli(self, *args):
        try:
            return procs.run(["redis-cli", "-h", "127.0.0.1", "-p",
                              str(self.port)] + list(args), 10)
        except procs.BenchError:
            return ""

    # reading the counter is one command (INFO), counted after it runs
    READ_COST = 1

    def served(self):
        """The server's count of commands processed; the difference of two
        readings includes READ_COST for the first reading itself."""
        for line in self._cli("INFO", "stats").splitlines():
            if line.startswith("total_commands_processed:"):
                return int(line.split(":")[1])
        raise procs.BenchError("redis: no total_commands_processed")


class Mariadb:
    def __init__(self, work, port):
        self.dir = os.path.join(work, "mariadb")
        self.port = port
        self.client = ["--protocol=tcp", "-h127.0.0.1", "-P%d" % port,
                       "-uroot"]

    def start(self):
        os.makedirs(self.dir)
        conf = os.path.join(self.dir, "my.cnf")
        render("mariadb.cnf.in", conf, DIR=self.dir, PORT=self.port)
        procs.run(["mariadb-install-db", "--defaults-file=" + conf,
                   "--auth-root-authentication-method=normal",
                   "--skip-test-db"], 120)
        procs.start(["mariadbd", "--defaults-file=" + conf],
                    stderr=os.path.join(self.dir, "stderr"))
        procs.wait_for(self._alive, 60, "mariadbd")
        with open(os.path.join(CONF, "mariadb-schema.sql")) as f:
            subprocess.run(["mariadb"] + self.client, stdin=f, check=True,
                           timeout=60, stdout=subprocess.DEVNULL)

    def _alive(self):
        if not port_open(self.port):
            return False
        res = subprocess.run(["mariadb-admin"] + self.client + ["ping"],
                             stdout=subprocess.DEVNULL,
                             stderr=subprocess.DEVNULL, timeout=10)
        return res.returncode == 0

    # the mariadb client sends 2 statements to read the counter, and the
    # reading includes them
    READ_COST = 2

    def served(self):
        """The server's Questions counter (client statements); the
        difference of two readings includes READ_COST for the second."""
        out = procs.run(["mariadb"] + self.client + [
            "-N", "-e", "SHOW GLOBAL STATUS LIKE 'Questions'"], 10)
        return int(out.split()[1])


def start_all(work, ports):
    """Starts nginx, redis and mariadb; returns them by name."""
    t0 = time.monotonic()
    for port in ports.values():
        if not port_free(port):
            raise procs.BenchError("port %d is in use (set BENCH_PORT_BASE)"
                                   % port)
    nginx = Nginx(work, ports["nginx"])
    nginx.start()
    redis = Redis(work, ports["redis"])
    redis.start()
    mariadb = Mariadb(work, ports["mariadb"])
    mariadb.start()
    procs.log("servers up in %.1f s (nginx :%d, redis :%d, mariadb :%d)" % (
        time.monotonic() - t0, nginx.port, redis.port, mariadb.port))
    return {"nginx": nginx, "redis": redis, "mariadb": mariadb}
