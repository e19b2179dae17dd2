"""An answer given before the request body was read (413, a failed upstream)
must reach the client even while it is still sending: portico stops writing,
keeps reading and discarding for a while (lingering close), instead of closing
at once, which would reset the connection and destroy the answer."""

import socket

from helpers import free_port, make_config, parse_responses


def send_big_body_and_read(port, head, body_len):
    """Sends the whole body before reading anything, as a simple client does:
    the answer must still be readable afterwards."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(head)
    out = bytearray()
    chunk = b"x" * 65536
    sent = 0
    try:
        while sent < body_len:
            s.sendall(chunk)
            sent += len(chunk)
    except OSError:
        out.extend(b"<send failed>")
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            out.extend(d)
    except OSError:
        out.extend(b"<reset>")
    s.close()
    return bytes(out)


def test_413_reaches_a_client_still_uploading(start_portico, backend):
    port = free_port()
    start_portico(make_config(port, {"app": [backend]}, limits={"max_body_size": "64k"}))
    body_len = 4 * 1024 * 1024
    head = ("POST /upload HTTP/1.1\r\nHost: a\r\nContent-Length: %d\r\n\r\n" % body_len).encode()
    out = send_big_body_and_read(port, head, body_len)
    assert b"<reset>" not in out and b"<send failed>" not in out
    rs = parse_responses(out)
    assert rs and rs[0].status == 413


def test_chunked_upload_over_the_limit_gets_413_not_a_reset(start_portico, backend):
    port = free_port()
    start_portico(make_config(port, {"app": [backend]}, limits={"max_body_size": "64k"}))
    head = b"POST /upload HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n"
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(head)
    out = bytearray()
    try:
        for _ in range(64):
            s.sendall(b"10000\r\n" + b"y" * 0x10000 + b"\r\n")
    except OSError:
        out += b"<send failed>"
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            out += d
    except OSError:
        out += b"<reset>"
    s.close()
    assert b"<reset>" not in out and b"<send failed>" not in out
    rs = parse_responses(bytes(out))
    assert rs and rs[0].status == 413
