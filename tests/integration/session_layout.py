#!/usr/bin/env python3
"""Prints the block layout of a session file as JSON, following the
layout man/deetune-session.5 documents (little-endian throughout):

    header   magic[8] "\\x89DTS\\r\\n\\x1a\\n", u16 major, u16 minor,
             u32 header length (whole header, checksum included), ...
    frames   "DTFR", u32 compressed length, u32 raw length, u32 records,
             u32 payload CRC, u32 header CRC, then the compressed payload
    index    "DTIX" ...
    trailer  "DTTR" ..., the last 36 bytes of a finished file

    session_layout.py FILE
    -> {"size": N, "header_len": N,
        "frames": [{"offset": N, "end": N, "records": N}, ...],
        "frames_end": N, "trailer": true|false}

Frames are walked from the header on while a complete frame header with
the frame magic is found; the tests use this to pick damage offsets and to
know how many exchanges a reader can still return. Checksums are not
verified here: this only reads files the recorder just wrote.
"""
import json
import struct
import sys

MAGIC = b"\x89DTS\r\n\x1a\n"
FRAME_HEADER_LEN = 24
TRAILER_LEN = 36


def layout(data):
    if data[:8] != MAGIC or len(data) < 16:
        raise ValueError("not a session file")
    header_len = struct.unpack_from("<I", data, 12)[0]
    frames = []
    pos = header_len
    while (pos + FRAME_HEADER_LEN <= len(data) and
           data[pos:pos + 4] == b"DTFR"):
        comp_len, _raw_len, records = struct.unpack_from("<III", data,
                                                         pos + 4)
        end = pos + FRAME_HEADER_LEN + comp_len
        if end > len(data):
            break
        frames.append({"offset": pos, "end": end, "records": records})
        pos = end
    return {"size": len(data), "header_len": header_len, "frames": frames,
            "frames_end": pos,
            "trailer": (len(data) >= TRAILER_LEN and
                        data[-TRAILER_LEN:-TRAILER_LEN + 4] == b"DTTR")}


def main(argv):
    if len(argv) != 2:
        sys.stderr.write(__doc__)
        return 2
    with open(argv[1], "rb") as f:
        data = f.read()
    try:
        print(json.dumps(layout(data)))
    except ValueError as e:
        print(f"session_layout: {argv[1]}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
