#!/usr/bin/env python3
"""httpd.py: the config server every integration test talks to (stdlib only).

Usage:
  python3 httpd.py --root DIR --portfile FILE --logfile FILE
                   [--port 0] [--bind 127.0.0.1] [--tls CERT KEY] [--no-etag]
                   [--keep-alive]

  --root DIR       GET /a/b serves DIR/a/b (nothing outside DIR; directories
                   and missing files are 404). Content-Type application/json.
                   SORACOM metadata is just files: DIR/v1/subscriber and
                   DIR/v1/userdata, so --soracom=http://127.0.0.1:PORT works.
  --portfile FILE  the chosen port is written here (atomically) once the
                   socket listens: wait for the file, then read it.
  --logfile FILE   one JSON line per request, flushed at once:
                   {"path":..,"if_none_match":..,"if_modified_since":..,
                    "status":..,"bytes":<body bytes sent>,"mode":..,
                    "conn":<connection number, 1, 2, ... in accept order>}
                   (status is null for `hang`, logged when the hang starts).
  --port 0         0 = let the kernel choose.
  --tls CERT KEY   serve https with this PEM certificate and key.
  --no-etag        send no ETag (Last-Modified still sent, so a client
                   falls back to If-Modified-Since).
  --keep-alive     keep the connection open after a file, a 304 or a 404
                   of the modes normal, noetag and lastmod (as most HTTP/1.1
                   servers do); every other answer still closes it. Without
                   it, every connection carries one request.

Validators: ETag is the quoted sha256 hex of the body, Last-Modified the
file's mtime. A matching If-None-Match gets 304; without If-None-Match, an
If-Modified-Since not older than the mtime gets 304.

Fault modes, per path, read AT EACH REQUEST from the sidecar DIR/<path>.mode
(first word is the mode; flip it while the server runs):
  500 | 404 | 503   that status, small text body
  hang [SECONDS]    accept the request, answer nothing (default 3600 s)
  truncate          Content-Length larger than the bytes sent, then close
  big               2 MiB body, chunked, no Content-Length
  big-cl            2 MiB body with Content-Length
  drip [SECONDS]    headers (Content-Length 600), then 1 byte per SECONDS (1)
  empty             200 with an empty body
  noetag            the file, with no validators at all
  lastmod           the file, with Last-Modified but no ETag
  redirect URL      302 to URL
  html              200 text/html, a captive-portal login page
An unknown mode is a 500 whose body names it. SIGTERM exits cleanly.
"""

import argparse
import email.utils
import hashlib
import http.server
import json
import os
import signal
import socket
import ssl
import sys
import threading
import time
import urllib.parse

BIG_SIZE = 2 * 1024 * 1024  # twice the client's 1 MiB cap
CHUNK = 64 * 1024
DRIP_LEN = 600  # long enough that any sane client times out first

HTML_PAGE = (b"<!DOCTYPE html><html><head><title>Hotspot login</title></head>"
             b"<body><form method=post action=/login>Accept the terms "
             b"<input type=submit></form></body></html>\n")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "tc-httpd/1"

    def version_string(self):
        return self.server_version

    # --- plumbing ---------------------------------------------------------

    def log_message(self, fmt, *args):  # the JSON log replaces the access log
        pass

    def setup(self):
        super().setup()
        with self.server.log_lock:
            self.server.conns += 1
            self.conn = self.server.conns
        self.keep = False

    def log_request_line(self, status, nbytes, mode):
        rec = {
            "path": self.url_path,
            "if_none_match": self.headers.get("If-None-Match"),
            "if_modified_since": self.headers.get("If-Modified-Since"),
            "status": status,
            "bytes": nbytes,
            "mode": mode,
            "conn": self.conn,
        }
        line = json.dumps(rec, sort_keys=True) + "\n"
        with self.server.log_lock:
            self.server.logf.write(line)
            self.server.logf.flush()

    def send_head(self, status, ctype="application/json", length=None,
                  extra=None):
        self.send_response(status)
        if ctype is not None:
            self.send_header("Content-Type", ctype)
        if length is not None:
            self.send_header("Content-Length", str(length))
        for k, v in (extra or []):
            self.send_header(k, v)
        # One request per connection keeps every fault mode simple; only
        # plain answers may keep it open (--keep-alive).
        if self.keep:
            self.close_connection = False
        else:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()

    def send_simple(self, status, body, mode, ctype="application/json",
                    extra=None):
        self.send_head(status, ctype, len(body), extra)
        self.wfile.write(body)
        self.wfile.flush()
        self.log_request_line(status, len(body), mode)

    def local_path(self):
        """DIR/<path>, or None when the path leaves DIR or is not a file."""
        if "\0" in self.url_path:
            return None
        root = self.server.root
        cand = os.path.realpath(os.path.join(root, self.url_path.lstrip("/")))
        if os.path.commonpath([root, cand]) != root or cand == root:
            return None
        return cand

    def read_mode(self, path):
        if path is None:
            return []
        try:
            with open(path + ".mode", encoding="utf-8") as f:
                return f.read().split()
        except OSError:
            return []

    # --- validators -------------------------------------------------------

    def validators(self, body, mtime, use_etag, use_lastmod):
        etag = '"%s"' % hashlib.sha256(body).hexdigest() if use_etag else None
        lastmod = (email.utils.formatdate(mtime, usegmt=True)
                   if use_lastmod else None)
        return etag, lastmod

    def is_not_modified(self, etag, lastmod_ts):
        inm = self.headers.get("If-None-Match")
        if inm is not None:
            if etag is None:
                return False
            tags = [t.strip() for t in inm.split(",")]
            return "*" in tags or etag in tags or ("W/" + etag) in tags
        ims = self.headers.get("If-Modified-Since")
        if ims is None or lastmod_ts is None:
            return False
        try:
            when = email.utils.parsedate_to_datetime(ims).timestamp()
        except (TypeError, ValueError, IndexError, OverflowError):
            return False
        return int(lastmod_ts) <= when

    # --- modes ------------------------------------------------------------

    def serve_file(self, path, mode, use_etag, use_lastmod):
        try:
            with open(path, "rb") as f:
                st = os.fstat(f.fileno())
                body = f.read()
        except (OSError, TypeError):
            self.send_simple(404, b"not found\n", mode, "text/plain")
            return
        etag, lastmod = self.validators(body, st.st_mtime, use_etag,
                                        use_lastmod)
        extra = []
        if etag:
            extra.append(("ETag", etag))
        if lastmod:
            extra.append(("Last-Modified", lastmod))
        if self.is_not_modified(etag, st.st_mtime if lastmod else None):
            self.send_head(304, None, None, extra)
            self.log_request_line(304, 0, mode)
            return
        self.send_simple(200, body, mode, extra=extra)

    def mode_hang(self, args):
        self.log_request_line(None, 0, "hang")
        limit = float(args[0]) if args else 3600.0
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline and not self.server.stopping.is_set():
            time.sleep(0.2)
        self.close_connection = True

    def mode_truncate(self, path):
        try:
            with open(path, "rb") as f:
                body = f.read()
        except (OSError, TypeError):
            body = b'{"version": 1, "devices": {}}\n'
        self.send_head(200, "application/json", len(body) + 1000)
        self.wfile.write(body)
        self.wfile.flush()
        self.log_request_line(200, len(body), "truncate")
        self.connection.shutdown(socket.SHUT_RDWR)

    def mode_big(self, chunked):
        sent = 0
        self.send_head(200, "application/json",
                       None if chunked else BIG_SIZE,
                       [("Transfer-Encoding", "chunked")] if chunked else None)
        try:
            while sent < BIG_SIZE:
                n = min(CHUNK, BIG_SIZE - sent)
                data = b" " * n
                if chunked:
                    self.wfile.write(b"%x\r\n%s\r\n" % (n, data))
                else:
                    self.wfile.write(data)
                sent += n
            if chunked:
                self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
        except OSError:  # the client hung up at its cap: that is the point
            pass
        self.log_request_line(200, sent, "big" if chunked else "big-cl")

    def mode_drip(self, args):
        interval = float(args[0]) if args else 1.0
        sent = 0
        self.send_head(200, "application/json", DRIP_LEN)
        try:
            while sent < DRIP_LEN and not self.server.stopping.is_set():
                self.wfile.write(b" ")
                self.wfile.flush()
                sent += 1
                time.sleep(interval)
        except OSError:
            pass
        self.log_request_line(200, sent, "drip")

    def do_GET(self):
        self.keep = False
        self.url_path = urllib.parse.unquote(
            urllib.parse.urlsplit(self.path).path)
        path = self.local_path()
        words = self.read_mode(path)
        mode = words[0] if words else "normal"
        args = words[1:]
        if mode in ("500", "404", "503"):
            self.send_simple(int(mode), b"fault %s\n" % mode.encode(), mode,
                             "text/plain")
        elif mode == "hang":
            self.mode_hang(args)
        elif mode == "truncate":
            self.mode_truncate(path)
        elif mode == "big":
            self.mode_big(True)
        elif mode == "big-cl":
            self.mode_big(False)
        elif mode == "drip":
            self.mode_drip(args)
        elif mode == "empty":
            self.send_simple(200, b"", mode)
        elif mode == "noetag":
            self.keep = self.server.keep_alive
            self.serve_file(path, mode, False, False)
        elif mode == "lastmod":
            self.keep = self.server.keep_alive
            self.serve_file(path, mode, False, True)
        elif mode == "redirect" and args:
            self.send_simple(302, b"moved\n", mode, "text/plain",
                             [("Location", args[0])])
        elif mode == "html":
            self.send_simple(200, HTML_PAGE, mode, "text/html")
        elif mode == "normal":
            self.keep = self.server.keep_alive
            if path is None or not os.path.isfile(path):
                self.send_simple(404, b"not found\n", mode, "text/plain")
            else:
                self.serve_file(path, mode, not self.server.no_etag, True)
        else:
            self.send_simple(500, b"unknown mode %s\n" % mode.encode(), mode,
                             "text/plain")


class Server(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request, client_address):
        # A client refusing our certificate or hanging up mid-body is a test
        # scenario, not a server bug: one line, no traceback.
        exc = sys.exc_info()[1]
        sys.stderr.write("httpd.py: %s: %r\n" % (client_address[0], exc))


def write_portfile(path, port):
    tmp = "%s.tmp.%d" % (path, os.getpid())
    with open(tmp, "w", encoding="ascii") as f:
        f.write("%d\n" % port)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser(description="config server for tests")
    ap.add_argument("--root", required=True)
    ap.add_argument("--portfile", required=True)
    ap.add_argument("--logfile", required=True)
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    ap.add_argument("--no-etag", action="store_true")
    ap.add_argument("--keep-alive", action="store_true")
    a = ap.parse_args()

    if ":" in a.bind:
        Server.address_family = socket.AF_INET6
    srv = Server((a.bind, a.port), Handler)
    srv.root = os.path.realpath(a.root)
    srv.no_etag = a.no_etag
    srv.keep_alive = a.keep_alive
    srv.conns = 0
    srv.log_lock = threading.Lock()
    srv.logf = open(a.logfile, "a", encoding="utf-8")
    srv.stopping = threading.Event()
    if a.tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.tls[0], a.tls[1])
        # Handshake lazily in the handler thread, so one stuck client
        # cannot block accept().
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True,
                                     do_handshake_on_connect=False)

    def on_term(signum, frame):
        srv.stopping.set()
        # shutdown() waits for serve_forever(), which runs in this thread.
        threading.Thread(target=srv.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, on_term)
    signal.signal(signal.SIGINT, on_term)
    write_portfile(a.portfile, srv.server_address[1])
    try:
        srv.serve_forever(poll_interval=0.2)
    finally:
        srv.server_close()
        srv.logf.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
