# One HTTP exchange whose answer is JSON (or text when it is not), for the agent's API and
# the Docker Engine API alike (standard library only).
import json


def exchange(conn, close, method, path, body=None, headers=None):
    """Sends one request on `conn`; closes it after when `close`; returns (status, JSON or text)."""
    conn.request(method, path, body=body, headers=headers or {})
    r = conn.getresponse()
    data = r.read()
    if close:
        conn.close()
    try:
        return r.status, json.loads(data) if data else None
    except ValueError:
        return r.status, data.decode(errors="replace")
