#!/usr/bin/env python3
# A small OpenID Connect provider for the OIDC login tests (oidc_login_test.cpp, and the UI's
# browser test): discovery, an authorization endpoint that signs its user in at once and sends
# the browser back with a code, a token endpoint (client_secret_basic, PKCE S256, one use per
# code), userinfo (where the groups are), and its JWKS. ID tokens are RS256, signed by PyJWT.
#
# Usage: oidc_provider.py PORT_FILE KEY_PEM OTHER_KEY_PEM CLIENT_ID CLIENT_SECRET
# It listens on a free loopback port and writes it to PORT_FILE. The user signed in is
# `login_hint` (default alice). A test forges with extra parameters on the authorization URL:
# fake_nonce (the ID token carries that nonce), fake_aud, and sign_with=other (another key).
# GET /log answers what the token endpoint saw, one JSON object per exchange.
import base64, hashlib, http.server, json, secrets, sys, threading, time, urllib.parse

import jwt
from jwt.algorithms import RSAAlgorithm

port_file, key_file, other_key_file, client_id, client_secret = sys.argv[1:6]
key = open(key_file).read()
other_key = open(other_key_file).read()
USERS = {
    "alice": {"email": "alice@example.com", "groups": ["engineering", "oncall"]},
    "bob": {"email": "bob@example.com", "groups": ["sales"]},
}
codes, access_tokens, exchanges = {}, {}, []
lock = threading.Lock()


def jwks():
    from cryptography.hazmat.primitives.serialization import load_pem_private_key
    public = load_pem_private_key(key.encode(), None).public_key()
    jwk = json.loads(RSAAlgorithm.to_jwk(public))
    jwk.update({"kid": "idp-1", "use": "sig", "alg": "RS256"})
    return {"keys": [jwk]}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def reply(self, status, body, headers=None):
        data = json.dumps(body).encode() if not isinstance(body, bytes) else body
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def issuer(self):
        return "http://127.0.0.1:%d" % self.server.server_address[1]

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        q = dict(urllib.parse.parse_qsl(url.query))
        if url.path == "/.well-known/openid-configuration":
            i = self.issuer()
            return self.reply(200, {
                "issuer": i, "authorization_endpoint": i + "/authorize", "token_endpoint": i + "/token",
                "userinfo_endpoint": i + "/userinfo", "jwks_uri": i + "/jwks",
                "response_types_supported": ["code"], "subject_types_supported": ["public"],
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["client_secret_basic"],
                "code_challenge_methods_supported": ["S256"]})
        if url.path == "/jwks":
            return self.reply(200, jwks())
        if url.path == "/log":
            with lock:
                return self.reply(200, exchanges)
        if url.path == "/authorize":
            if q.get("response_type") != "code" or q.get("client_id") != client_id or "redirect_uri" not in q:
                return self.reply(400, {"error": "invalid_request"})
            code = secrets.token_urlsafe(16)
            with lock:
                codes[code] = dict(q, user=q.get("login_hint", "alice"))
            back = q["redirect_uri"] + ("&" if "?" in q["redirect_uri"] else "?") + urllib.parse.urlencode(
                {"code": code, "state": q.get("state", "")})
            return self.reply(302, b"", {"Location": back})
        if url.path == "/userinfo":
            auth = self.headers.get("Authorization", "")
            with lock:
                user = access_tokens.get(auth[len("Bearer "):]) if auth.startswith("Bearer ") else None
            if not user:
                return self.reply(401, {"error": "invalid_token"})
            return self.reply(200, dict(USERS[user], sub=user))
        self.reply(404, {"error": "not_found"})

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
        if self.path != "/token":
            return self.reply(404, {"error": "not_found"})
        basic = self.headers.get("Authorization", "")
        seen = {"basic": basic.startswith("Basic "), "code_verifier": "code_verifier" in form}
        with lock:
            exchanges.append(seen)
        expected = "Basic " + base64.b64encode(
            (urllib.parse.quote(client_id, safe="") + ":" + urllib.parse.quote(client_secret, safe="")).encode()).decode()
        if basic != expected:
            return self.reply(401, {"error": "invalid_client"})
        with lock:
            req = codes.pop(form.get("code", ""), None)
        if form.get("grant_type") != "authorization_code" or req is None:
            return self.reply(400, {"error": "invalid_grant", "error_description": "unknown or used code"})
        if form.get("redirect_uri") != req["redirect_uri"]:
            return self.reply(400, {"error": "invalid_grant", "error_description": "redirect_uri differs"})
        if "code_challenge" in req:
            verifier = form.get("code_verifier", "")
            made = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
            if made != req["code_challenge"]:
                return self.reply(400, {"error": "invalid_grant", "error_description": "PKCE verification failed"})
        now = int(time.time())
        claims = {"iss": self.issuer(), "sub": req["user"], "aud": req.get("fake_aud", client_id),
                  "iat": now, "exp": now + 300, "nonce": req.get("fake_nonce", req.get("nonce", "")),
                  "email": USERS[req["user"]]["email"]}
        signer = other_key if req.get("sign_with") == "other" else key
        id_token = jwt.encode(claims, signer, algorithm="RS256", headers={"kid": "idp-1"})
        access = secrets.token_urlsafe(16)
        with lock:
            access_tokens[access] = req["user"]
        self.reply(200, {"access_token": access, "token_type": "Bearer", "expires_in": 300, "id_token": id_token})


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
with open(port_file + ".tmp", "w") as f:
    f.write(str(server.server_address[1]))
import os
os.rename(port_file + ".tmp", port_file)
server.serve_forever()
