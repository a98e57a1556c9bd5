#!/usr/bin/env python3
"""lanweb.py: a LAN device's admin page for tests/integration/t_web.sh, over
HTTP or, with CERT and KEY, over HTTPS with a self-signed certificate (as an
inverter ships it).

  lanweb.py ADDR PORT TOKEN [CERT KEY]

GET /          an HTML page naming TOKEN, the Host it was asked for, and
               whether an Authorization header reached it
GET /redirect  302 to http://ADDR/login (an absolute redirect to itself)
GET /cookie    sets a cookie for the parent domain named in ?domain=
"""
import html
import http.server
import ssl
import sys
import urllib.parse


class Handler(http.server.BaseHTTPRequestHandler):
    def reply(self, code, body, headers=()):
        data = body.encode()
        self.send_response(code)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        if url.path == "/redirect":
            self.reply(302, "", [("Location", "http://%s/login" % ADDR)])
        elif url.path == "/cookie":
            dom = urllib.parse.parse_qs(url.query).get("domain", ["example.net"])[0]
            self.reply(200, "cookie", [("Set-Cookie", "s=1; Domain=%s; Path=/" % dom)])
        else:
            auth = "yes" if self.headers.get("Authorization") else "no"
            self.reply(200, "<!DOCTYPE html><html><head><title>Device admin %s</title></head><body>"
                       "<p id=token>%s</p><p id=host>%s</p><p id=auth>authorization:%s</p></body></html>"
                       % (TOKEN, TOKEN, html.escape(self.headers.get("Host", "")), auth))

    def log_message(self, *args):
        pass


ADDR, PORT, TOKEN = sys.argv[1], int(sys.argv[2]), sys.argv[3]
srv = http.server.ThreadingHTTPServer((ADDR, PORT), Handler)
if len(sys.argv) > 5:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[4], sys.argv[5])
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()
