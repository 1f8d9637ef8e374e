#!/usr/bin/env python3
"""HTTPS client for test_tls_nginx.sh: Python's ssl module calls OpenSSL's
SSL_read_ex/SSL_write_ex (curl and wrk call SSL_read/SSL_write).

    tls_client.py PORT WWW PATH...

GETs each PATH over one keep-alive connection to 127.0.0.1:PORT (no
certificate check) and fails unless each 200 answer equals the file
under WWW.
"""
import http.client
import os
import ssl
import sys


def main():
    port, www, paths = int(sys.argv[1]), sys.argv[2], sys.argv[3:]
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    conn = http.client.HTTPSConnection("127.0.0.1", port, context=ctx)
    for path in paths:
        conn.request("GET", path)
        resp = conn.getresponse()
        body = resp.read()
        if resp.status != 200:
            continue
        with open(os.path.join(www, path.lstrip("/")), "rb") as f:
            if f.read() != body:
                sys.exit(f"tls_client.py: {path}: body differs")
    conn.close()


if __name__ == "__main__":
    main()
