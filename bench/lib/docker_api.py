# A minimal Docker Engine API client over the unix socket (standard library only).
import http.client
import json
import os
import socket
import urllib.parse

from . import http_json

SOCKET = "/var/run/docker.sock"


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout=120):
        super().__init__("localhost", timeout=timeout)
        self.unix_path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.unix_path)


def available():
    return os.path.exists(SOCKET)


def call(method, path, body=None, conn=None):
    c = conn or UnixHTTPConnection(SOCKET)
    headers = {"Content-Type": "application/json"} if body is not None else {}
    data = json.dumps(body) if body is not None else None
    return http_json.exchange(c, conn is None, method, path, data, headers)


def remove_by_alloc_label(alloc_ids):
    """Force-removes containers that drover made for the given allocs (label com.drover.alloc_id)."""
    if not alloc_ids or not available():
        return
    filters = urllib.parse.quote(json.dumps({"label": ["com.drover.alloc_id"]}))
    try:
        status, body = call("GET", f"/containers/json?all=1&filters={filters}")
    except OSError:
        return
    if status != 200:
        return
    for c in body:
        if c.get("Labels", {}).get("com.drover.alloc_id") in alloc_ids:
            call("DELETE", f"/containers/{c['Id']}?force=1")


def remove_by_label(key, value):
    """Force-removes every container labelled key=value (best effort)."""
    filters = urllib.parse.quote(json.dumps({"label": [f"{key}={value}"]}))
    try:
        status, body = call("GET", f"/containers/json?all=1&filters={filters}")
        if status == 200:
            for c in body:
                call("DELETE", f"/containers/{c['Id']}?force=1")
    except OSError:
        pass
