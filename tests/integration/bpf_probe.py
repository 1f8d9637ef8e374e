#!/usr/bin/env python3
"""Exits 0 when this process may load an eBPF tracing program, 1 otherwise.

Loads (never attaches) a two-instruction raw-tracepoint program with the
bpf(2) syscall, the same privilege `deetune record` needs, and prints the
reason on failure. Python stdlib only.
"""
import ctypes
import os
import platform
import struct
import sys

BPF_SYSCALL = {"x86_64": 321, "aarch64": 280}
BPF_PROG_LOAD = 5
BPF_PROG_TYPE_RAW_TRACEPOINT = 17


def main():
    nr = BPF_SYSCALL.get(platform.machine())
    if nr is None:
        print(f"bpf probe: unknown architecture {platform.machine()}")
        return 1
    # r0 = 0; exit
    insns = ctypes.create_string_buffer(
        struct.pack("<BBhiBBhi", 0xB7, 0, 0, 0, 0x95, 0, 0, 0), 16)
    license_ = ctypes.create_string_buffer(b"GPL")
    attr = ctypes.create_string_buffer(128)
    struct.pack_into("<IIQQ", attr, 0, BPF_PROG_TYPE_RAW_TRACEPOINT, 2,
                     ctypes.addressof(insns), ctypes.addressof(license_))
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    fd = libc.syscall(ctypes.c_long(nr), ctypes.c_int(BPF_PROG_LOAD), attr,
                      ctypes.c_uint(len(attr)))
    if fd < 0:
        err = ctypes.get_errno()
        print(f"bpf probe: cannot load a BPF program: {os.strerror(err)}")
        return 1
    os.close(fd)
    return 0


if __name__ == "__main__":
    sys.exit(main())
