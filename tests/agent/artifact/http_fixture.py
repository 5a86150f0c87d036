#!/usr/bin/env python3
# A small HTTP server for the artifact HTTP tests (http_test.cpp): a file that honours Range,
# one whose first transfer is cut, a 503 before a 200, large and endless bodies, a redirect
# loop, a 404, and an echo of a request header. Usage: http_fixture.py PORT LOGFILE
import http.server
import sys

BODY = b"0123456789" * 1000
counts = {}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass  # one line per request is written by do_GET


    def send_body(self, status, body, extra=None):
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def ranged(self):
        r = self.headers.get("Range")
        if r and r.startswith("bytes="):
            start = int(r[6:].split("-")[0])
            self.send_body(206, BODY[start:], {
                "Content-Range": "bytes %d-%d/%d" % (start, len(BODY) - 1, len(BODY))})
        else:
            self.send_body(200, BODY, {"Accept-Ranges": "bytes"})

    def do_GET(self):
        n = counts[self.path] = counts.get(self.path, 0) + 1
        with open(sys.argv[2], "a") as log:
            log.write("%s range=%s\n" % (self.path, self.headers.get("Range", "-")))
        if self.path == "/file":
            self.ranged()
        elif self.path == "/flaky":
            if n == 1:
                # Promise the whole body, send 4000 bytes of it, hang up.
                self.send_response(200)
                self.send_header("Content-Length", str(len(BODY)))
                self.send_header("Accept-Ranges", "bytes")
                self.end_headers()
                self.wfile.write(BODY[:4000])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(2)
            else:
                self.ranged()
        elif self.path == "/unavailable-once":
            if n == 1:
                self.send_body(503, b"busy")
            else:
                self.send_body(200, BODY)
        elif self.path == "/big":
            self.send_response(200)
            self.send_header("Content-Length", str(64 << 20))
            self.end_headers()
            try:
                for _ in range(64):
                    self.wfile.write(b"\0" * (1 << 20))
            except (BrokenPipeError, ConnectionResetError):
                pass
        elif self.path == "/endless":
            # No length: the body ends when the connection does, which is never.
            self.send_response(200)
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            try:
                for _ in range(256):
                    self.wfile.write(b"\0" * (1 << 20))
            except (BrokenPipeError, ConnectionResetError):
                pass
        elif self.path == "/loop":
            self.send_body(302, b"", {"Location": "/loop"})
        elif self.path == "/header":
            self.send_body(200, self.headers.get("X-Token", "none").encode())
        else:
            self.send_body(404, b"no such file")


http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), Handler).serve_forever()
