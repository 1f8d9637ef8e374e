#!/usr/bin/python3
"""A gRPC server and client for test_grpc.sh, with hand-encoded protobuf
messages and no generated stubs.

  grpc_app.py serve PORT [changed|tls=DIR]
                              serves deetune.test.Greeter until killed;
                              "changed": SayHello replies with index 2
                              instead of 1 (one field differs, for
                              test_replay_grpc.sh); "tls=DIR": over TLS
                              with DIR/cert.pem and DIR/key.pem
  grpc_app.py call PORT       makes the calls test_grpc.sh checks

Messages: HelloRequest {1: name (string), 2: count (varint)},
HelloReply {1: text (string), 2: index (varint)}.
"""
import sys
from concurrent import futures

import grpc

SERVICE = "deetune.test.Greeter"


def varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def message(text, number):
    raw = text.encode()
    return b"\x0a" + varint(len(raw)) + raw + b"\x10" + varint(number)


def parse_request(data):
    """(name, count) of a HelloRequest this script encoded."""
    n = data[1]
    return data[2:2 + n].decode(), data[3 + n]


SAY_HELLO_INDEX = 1


def say_hello(request, context):
    name, _ = parse_request(request)
    return message("hello " + name, SAY_HELLO_INDEX)


def list_hellos(request, context):
    name, count = parse_request(request)
    for i in range(count):
        yield message("hello %s #%d" % (name, i), i + 1)


def fail(request, context):
    context.abort(grpc.StatusCode.NOT_FOUND, "no greeting for ünknown")


def serve(port, variant=""):
    global SAY_HELLO_INDEX
    if variant == "changed":
        SAY_HELLO_INDEX = 2
    handlers = {
        "SayHello": grpc.unary_unary_rpc_method_handler(say_hello),
        "ListHellos": grpc.unary_stream_rpc_method_handler(list_hellos),
        "Fail": grpc.unary_unary_rpc_method_handler(fail),
    }
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    server.add_generic_rpc_handlers(
        (grpc.method_handlers_generic_handler(SERVICE, handlers),))
    if variant.startswith("tls="):
        d = variant[4:]
        with open(d + "/key.pem", "rb") as k, open(d + "/cert.pem", "rb") as c:
            creds = grpc.ssl_server_credentials(((k.read(), c.read()),))
        server.add_secure_port("127.0.0.1:%d" % port, creds)
    else:
        server.add_insecure_port("127.0.0.1:%d" % port)
    server.start()
    print("serving", flush=True)
    server.wait_for_termination()


def call(port):
    with grpc.insecure_channel("127.0.0.1:%d" % port) as ch:
        hello = ch.unary_unary("/%s/SayHello" % SERVICE)
        lst = ch.unary_stream("/%s/ListHellos" % SERVICE)
        bad = ch.unary_unary("/%s/Fail" % SERVICE)
        assert hello(message("ada", 0)) == message("hello ada", 1)
        got = list(lst(message("bob", 3)))
        assert got == [message("hello bob #%d" % i, i + 1)
                       for i in range(3)], got
        try:
            bad(message("x", 0))
            raise AssertionError("Fail succeeded")
        except grpc.RpcError as e:
            assert e.code() == grpc.StatusCode.NOT_FOUND, e.code()
    print("calls: 3")


if __name__ == "__main__":
    {"serve": serve, "call": call}[sys.argv[1]](int(sys.argv[2]),
                                               *sys.argv[3:])
