"""h2client.py: a raw HTTP/2 client for the end-to-end tests, python3-h2's
state machine over a plain socket, for what curl and nghttp cannot send."""

import socket
import time

import h2.config
import h2.connection
import h2.events

from helpers import HOST, free_port, make_config


def h2_config(backend, **top):
    """make_config with one upstream "app" on backend and http2 on."""
    cfg = make_config(free_port(), {"app": [backend]}, **top)
    cfg["listeners"][0]["http2"] = True
    return cfg


class H2Client:
    """A raw HTTP/2 client: python3-h2's state machine over a plain socket."""

    def __init__(self, port, settings=None, timeout=5.0):
        self.sock = socket.create_connection((HOST, port), timeout=timeout)
        self.conn = h2.connection.H2Connection(
            h2.config.H2Configuration(client_side=True, header_encoding="utf-8"))
        self.conn.initiate_connection()
        if settings:
            self.conn.update_settings(settings)
        self.flush()
        self.events = []
        self.closed = False

    def flush(self):
        data = self.conn.data_to_send()
        if data:
            self.sock.sendall(data)

    def request(self, path, headers=(), end=True, method="GET"):
        sid = self.conn.get_next_available_stream_id()
        hs = [(":method", method), (":path", path), (":scheme", "http"),
              (":authority", "test.local")] + list(headers)
        self.conn.send_headers(sid, hs, end_stream=end)
        self.flush()
        return sid

    def send_body(self, sid, data):
        """Sends data on stream sid as the flow-control windows allow, then
        ends the stream."""
        sent = 0
        while sent < len(data):
            window = min(self.conn.local_flow_control_window(sid),
                         self.conn.max_outbound_frame_size)
            if window == 0:  # wait for portico to read on and reopen the window
                seen = len(self.events)
                self.pump(lambda evs: len(evs) > seen)
                continue
            self.conn.send_data(sid, data[sent:sent + window])
            self.flush()
            sent += window
        self.conn.end_stream(sid)
        self.flush()

    def pump(self, until, timeout=5.0):
        """Reads until until(events) is true or the connection closes."""
        deadline = time.monotonic() + timeout
        while not until(self.events) and not self.closed:
            if time.monotonic() > deadline:
                raise AssertionError("timeout; events: %r" % self.events[-5:])
            self.sock.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                data = self.sock.recv(65536)
            except (ConnectionResetError, BrokenPipeError):
                data = b""
            except socket.timeout:
                continue
            if not data:
                self.closed = True
                break
            self.events += self.conn.receive_data(data)
            self.flush()
        return self.events

    def response(self, sid, timeout=5.0):
        """(status, headers dict, body) of stream sid, acknowledging DATA."""
        body = bytearray()

        def done(evs):
            return any(isinstance(e, (h2.events.StreamEnded, h2.events.StreamReset))
                       and e.stream_id == sid for e in evs)
        self.pump(done, timeout)
        status, headers = None, {}
        for e in self.events:
            if getattr(e, "stream_id", None) != sid:
                continue
            if isinstance(e, h2.events.ResponseReceived):
                headers = dict(e.headers)
                status = int(headers[":status"])
            elif isinstance(e, h2.events.DataReceived):
                body += e.data
        return status, headers, bytes(body)

    def close(self):
        self.sock.close()
