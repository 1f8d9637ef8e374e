#!/usr/bin/env python3
"""Checks a recording of nginx serving static files under overload:

    check_overload.py CAT.jsonl WWW

Every exchange not flagged incomplete (nor truncated) must be byte-exact:
a GET of a file under WWW answered 200 with exactly that file as its
body, or, flagged no-response, a whole GET that nginx had not answered
when the recording ended. Prints the counts; fails when no exchange came
through whole.
"""
import base64
import json
import os
import sys


def check(x, www):
    req = base64.b64decode(x["request"]["raw"])
    line = req.split(b"\r\n", 1)[0].split(b" ")
    if len(line) != 3 or line[0] != b"GET" or not req.endswith(b"\r\n\r\n"):
        return f"request is not a whole GET: {req[:80]!r}"
    if "no-response" in x["flags"]:
        return "a response without the flag" if x["response"] else None
    resp = base64.b64decode(x["response"]["raw"])
    with open(os.path.join(www, line[1].decode().lstrip("/")), "rb") as f:
        want = f.read()
    head, sep, body = resp.partition(b"\r\n\r\n")
    if not head.startswith(b"HTTP/1.1 200 ") or not sep:
        return f"response is not a 200: {resp[:80]!r}"
    if b"\r\ncontent-length: %d\r\n" % len(want) not in head.lower() + b"\r\n":
        return f"response head does not announce {len(want)} bytes"
    if body != want:
        return f"body of {len(body)} bytes differs from {line[1]!r}"
    return None


def main():
    whole = flagged = 0
    errors = []
    for n, text in enumerate(open(sys.argv[1])):
        x = json.loads(text)
        if {"incomplete", "truncated"} & set(x["flags"]):
            flagged += 1
            continue
        whole += 1
        why = check(x, sys.argv[2])
        if why:
            errors.append(f"exchange {x['id']} ({x['flags']}): {why}")
    print(f"{whole} whole exchanges byte-exact, {flagged} flagged")
    if not whole:
        errors.append("no exchange came through whole")
    if errors:
        sys.exit("\n".join(errors[:20]))


if __name__ == "__main__":
    main()
