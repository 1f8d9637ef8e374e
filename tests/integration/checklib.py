"""Helpers shared by the check_*.py scripts, which verify `deetune cat
--json --raw` output against what the test clients and servers saw."""
import base64
import sys


class Checker:
    """Collects every problem found; report() prints them."""

    def __init__(self, name, max_reported=40):
        self.name = name
        self.max_reported = max_reported
        self.errors = []

    def error(self, msg):
        self.errors.append(msg)

    def check(self, cond, msg):
        if not cond:
            self.error(msg)
        return cond

    def report(self, ok_message):
        """Prints the problems (or ok_message); returns the exit code."""
        for e in self.errors[:self.max_reported]:
            print(f"{self.name}: {e}", file=sys.stderr)
        if len(self.errors) > self.max_reported:
            print(f"{self.name}: ... and "
                  f"{len(self.errors) - self.max_reported} more",
                  file=sys.stderr)
        if self.errors:
            return 1
        print(f"{self.name}: {ok_message}")
        return 0


def raw(msg, key="raw"):
    """The bytes of a request or response's base64 field, None if absent."""
    if not isinstance(msg, dict) or key not in msg:
        return None
    return base64.b64decode(msg[key], validate=True)
