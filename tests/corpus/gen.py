#!/usr/bin/env python3
"""gen.py: (re)writes the config-document corpus in valid/ and invalid/.

Run from anywhere: python3 tests/corpus/gen.py. Each invalid/NAME.json may have
NAME.err (a substring the error must contain); each valid/NAME.json may have
NAME.expect (substrings, one a line, that docctl's output must contain).
Device id: 440101234567890 for files named soracom*, edge-0042 for the rest.
The keys are fake PEM structure; "SECRETKEYBYTES" must never reach a message.
"""
import base64, copy, json, os, shutil

HERE = os.path.dirname(os.path.abspath(__file__))
PEM = "-----BEGIN OPENSSH PRIVATE KEY-----\nAAAASECRETKEYBYTES\n-----END OPENSSH PRIVATE KEY-----\n"
B64 = base64.b64encode(PEM.encode()).decode()
# An OpenSSH key with a passphrase: the openssh-key-v1 blob names its cipher
# (PROTOCOL.key); the rest of the blob does not matter here.
ENC_BLOB = b"openssh-key-v1\0" + b"\0\0\0\x0aaes256-ctr" + b"\0\0\0\x06bcrypt" + b"\0" * 30
ENC_OPENSSH = ("-----BEGIN OPENSSH PRIVATE KEY-----\n" + base64.b64encode(ENC_BLOB).decode() +
               "\n-----END OPENSSH PRIVATE KEY-----\n")
ENC_PEM = ("-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,A34E514EF0511DB5922C00498F7917AE\n\n"
           "AAAASECRETKEYBYTES\n-----END RSA PRIVATE KEY-----\n")
ENCRYPTED = "is encrypted with a passphrase; tunnelctl needs an unencrypted key"
HK = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAi1mg3KE2v9z8nlOSzoQpVBS8xBp1uO1B9/EvBpvRUU"
ID, IMSI = "edge-0042", "440101234567890"
INJ = "-oProxyCommand=touch /tmp/pwn"

T1 = {"name": "inverter-web",
      "server": {"host": "203.0.113.10", "port": 22, "user": "tunnel", "host_key": HK},
      "remote": {"bind": "127.0.0.1", "port": 8080},
      "target": {"host": "192.0.2.50", "port": 443},
      "via": "dnat", "local_port": 10443, "private_key": PEM,
      "timeout": "1h", "keepalive": {"interval": 30, "count": 3}}
T2 = {"name": "ssh", "server": {"host": "tunnel.example.com", "user": "t"},
      "remote": {"port": 0}, "target": {"host": "localhost", "port": 22}, "private_key": B64}


def wrap76(text):
    """what GNU base64 prints: lines of 76, a final newline"""
    return "".join(text[i:i + 76] + "\n" for i in range(0, len(text), 76))


def native(tunnels, extra=None):
    d = {"version": 1, "devices": {ID: {"tunnels": tunnels}, "edge-0001": {"tunnels": []}}}
    if extra:
        d["devices"].update(extra)
    return d


def soracom(pfp, key=PEM, other=True):
    d = {"ssh": {"imsis": {IMSI: {"portForwardParam": pfp, "privateKey": key}}}}
    if other:
        d["ssh"]["imsis"]["440109999999999"] = {"portForwardParam": "1:localhost:22 x@y", "privateKey": "x"}
    return d


def dump(d):
    return json.dumps(d, indent=1).encode()


valid, invalid = {}, {}


def V(name, doc, *expect):
    valid[name] = (doc if isinstance(doc, bytes) else dump(doc), expect)


def I(name, doc, err=None):
    invalid[name] = (doc if isinstance(doc, bytes) else dump(doc), err)


def mut(path, value, base=None, delete=False):
    """native document with tunnels[0] changed at path (tuple of keys)."""
    t = copy.deepcopy(base or T1)
    o = t
    for k in path[:-1]:
        o = o[k]
    if delete:
        del o[path[-1]]
    else:
        o[path[-1]] = value
    return native([t, T2])


# ---- valid ----
V("native-full", native([T1, T2]),
  "name=inverter-web user=tunnel host=203.0.113.10 port=22 remote_bind=127.0.0.1 remote_port=8080 "
  "target=192.0.2.50:443 via=dnat local_port=10443 timeout=3600 keepalive=30,3 host_key=yes",
  "name=ssh user=t host=tunnel.example.com port=22 remote_bind=127.0.0.1 remote_port=0 "
  "target=localhost:22 via=direct local_port=0 timeout=0 keepalive=30,3 host_key=no")
V("native-absent", {"version": 1, "devices": {"edge-0001": {"tunnels": [T2]}}}, "device=absent")
V("native-no-devices", {"version": 1, "devices": {}}, "device=absent")
V("native-empty-tunnels", native([]))
V("native-minimal", native([T2]), "name=ssh ")
V("native-timeout-int", mut(("timeout",), 90), "timeout=90")
V("native-timeout-days", mut(("timeout",), "2d"), "timeout=172800")
V("native-keepalive", mut(("keepalive",), {"interval": 10, "count": 6}), "keepalive=10,6")
V("native-ipv6-server", mut(("server", "host"), "2001:db8::10"), "host=2001:db8::10")
V("native-server-port", mut(("server", "port"), 2222), "port=2222")
V("native-other-device-typo", native([T2], {"edge-0001": {"tunnels": [{"name": "BAD NAME", "x": 1}]}}))
V("native-no-private-key", mut(("private_key",), None, delete=True), "name=")
V("native-gate-cert", mut(("server", "gate"), True), "name=")
V("native-crlf-key", mut(("private_key",), PEM.replace("\n", "\r\n")))
V("native-64-tunnels", native([dict(T2, name="t%d" % i) for i in range(64)]), "name=t63 ")
V("native-whitespace", b"\r\n\t " + dump(native([T2])) + b"\n\n  \t\r\n")
V("native-escapes", dump(native([dict(T2, name="s\\u0073h")])).replace(b"s\\\\u0073h", b"s\\u0073h"), "name=ssh ")
V("soracom", soracom("8080:localhost:22 tunnel@203.0.113.10"),
  "name=ssh user=tunnel host=203.0.113.10 port=22 remote_bind=127.0.0.1 remote_port=8080 "
  "target=localhost:22 via=direct local_port=0 timeout=0 keepalive=30,3 host_key=no")
V("soracom-full-grammar", soracom("127.0.0.1:8080:192.0.2.50:443 -p 2222 t@srv.example.com"),
  "port=2222 remote_bind=127.0.0.1 remote_port=8080 target=192.0.2.50:443")
V("soracom-remote-port-0", soracom("0:localhost:22 t@h"), "remote_port=0")
V("soracom-ipv6", soracom("[::1]:8080:[2001:db8::5]:22 -p 2222 t@[2001:db8::1]"),
  "user=t host=2001:db8::1 port=2222 remote_bind=::1 remote_port=8080 target=2001:db8::5:22 via=direct")
V("soracom-ipv6-target", soracom("8080:[::1]:22 tunnel@203.0.113.10"), "remote_bind=127.0.0.1 remote_port=8080 target=::1:22")
V("soracom-absent", {"ssh": {"imsis": {"440109999999999": {}}}}, "device=absent")
V("soracom-base64-key", soracom("8080:localhost:22 t@h", key=B64))
# what users paste: GNU base64's 76 columns, a web console's trailing blanks
V("native-key-b64-wrapped", mut(("private_key",), wrap76(B64)))
V("native-key-b64-wrapped-crlf", mut(("private_key",), wrap76(B64).replace("\n", " \r\n")))
V("native-key-trailing-blanks", mut(("private_key",), PEM.replace("\n", " \t \n")))
V("soracom-key-b64-wrapped", soracom("8080:localhost:22 t@h", key=wrap76(B64)))
I("soracom-key-public", soracom("8080:localhost:22 t@h", key=HK + " root@vm\n"),
  "ssh.imsis.440101234567890.privateKey: is a public key; give the private key")

# ---- invalid: document level ----
I("empty", b"", "document: is empty")
I("whitespace-only", b" \n", "document: is empty (only whitespace)")
I("truncated", b'{"ssh":{"imsis":{', "truncated")
I("trailing-garbage", dump(native([T2])) + b"xyz", "document:")
I("trailing-object", dump(native([T2])) + b"{}", "document:")
I("single-quotes", b"{'version':1,'devices':{}}", "not valid JSON")
I("comment", b'{"version":1,/*x*/"devices":{}}', "not valid JSON")
I("nan", dump(mut(("target", "port"), 1)).replace(b'"port": 1', b'"port": NaN'),
  "devices.edge-0042.tunnels[0].target.port: is not valid JSON")
I("top-array", b"[]", "document: is an array, expected an object")
I("top-null", b"null", "document: is null, expected an object")
I("top-null-newline", b"null\n", "document: is null, expected an object")
I("top-number", b"42\n", "document: is an integer, expected an object")
I("unknown-schema", b'{"foo":1}', "is neither SORACOM")
I("captive-portal", b"<html><body>Please log in</body></html>", "document:")
I("deep-nesting", b'{"version":1,"devices":' + b"[" * 100000, "nesting too deep")
I("depth-33", b'{"version":1,"devices":' + b"[" * 32 + b"]" * 32 + b"}", "nesting too deep")
I("invalid-utf8", dump(native([T2])).replace(b"tunnel.example.com", b"tunnel\xff\xfe.example.com"),
  "devices.edge-0042.tunnels[0].server.host: is not valid UTF-8")
I("overlong-utf8", dump(native([T2])).replace(b'"ssh"', b'"\xc0\xaf"'), "devices.edge-0042.tunnels[0].name: is not valid UTF-8")
I("surrogate-utf8", dump(native([T2])).replace(b'"ssh"', b'"\xed\xa0\x80"'), "not valid UTF-8")
I("above-max-utf8", dump(native([T2])).replace(b'"ssh"', b'"\xf4\x90\x80\x80"'), "not valid UTF-8")
I("nul-escape", dump(mut(("server", "host"), "h")).replace(b'"host": "h"', b'"host": "h\\u0000' + INJ.encode() + b'"'),
  "devices.edge-0042.tunnels[0].server.host: \\u0000 (NUL) in a string")
I("nul-escape-key", dump(mut(("server", "host"), "h")).replace(b'"host": "h"', b'"ho\\u0000st": "h"'),
  "devices.edge-0042.tunnels[0].server.ho?st: \\u0000 (NUL) in a key")
I("nul-escape-other-device", dump(native([T2], {"edge-0001": {"tunnels": [{"name": "x"}]}})).replace(b'"x"', b'"x\\u0000"'),
  "devices.edge-0001.tunnels[0].name: \\u0000 (NUL) in a string")
I("raw-nul", dump(native([T2])).replace(b'"version"', b'\x00"version"'), "document:")
I("raw-tab-in-string", dump(mut(("server", "host"), "a\tb")).replace(b"a\\tb", b"a\tb"),
  "devices.edge-0042.tunnels[0].server.host: control character (0x09) in a string")
I("raw-newline-in-key", dump(mut(("server", "host"), "h")).replace(b'"host"', b'"ho\nst"'),
  "devices.edge-0042.tunnels[0].server.ho?st: control character (0x0a) in a key")
I("dup-key-port", dump(mut(("target", "port"), 443)).replace(b'"port": 443', b'"port": 443, "port": 444'),
  "devices.edge-0042.tunnels[0].target.port: duplicate key")
I("dup-key-escaped", dump(mut(("target", "port"), 443)).replace(b'"port": 443', b'"port": 443, "\\u0070ort": 444'),
  "devices.edge-0042.tunnels[0].target.port: duplicate key")
I("dup-key-device", dump(native([T2])).replace(b'"edge-0001"', b'"edge-0042"'), "devices.edge-0042: duplicate key")
I("dup-key-pfp", dump(soracom("8080:localhost:22 t@h")).replace(b'"portForwardParam"', b'"portForwardParam": "9:localhost:22 a@b", "portForwardParam"', 1),
  "ssh.imsis.440101234567890.portForwardParam: duplicate key")
I("too-large", b'{"version":1,"devices":{}}' + b" " * (2 * 1024 * 1024), "larger than 1 MiB")

# ---- invalid: native schema ----
P = "devices.edge-0042.tunnels[0]."
I("version-2", dict(native([T2]), version=2), "version: 2 is not a supported version")
I("version-string", dict(native([T2]), version="1"), "version: is a string")
I("version-missing", {"devices": {}}, "version: is missing")
I("devices-array", {"version": 1, "devices": []}, "devices: is an array")
I("unknown-top-key", dict(native([T2]), extra=1), "extra: unknown key")
I("unknown-tunnel-key", mut(("color",), "red"), P + "color: unknown key")
I("unknown-device-key", {"version": 1, "devices": {ID: {"tunnels": [], "x": 1}}}, "devices.edge-0042.x: unknown key")
I("tunnels-object", {"version": 1, "devices": {ID: {"tunnels": {}}}}, "devices.edge-0042.tunnels: is an object")
I("other-device-not-object", native([T2], {"edge-0001": []}), "devices.edge-0001: is an array")
I("too-many-tunnels", native([dict(T2, name="t%d" % i) for i in range(65)]), "65 tunnels, at most 64")
I("dup-tunnel-name", native([T2, T2]), "devices.edge-0042.tunnels[1].name: 'ssh' is also the name of tunnels[0]")
T3 = {"name": "web", "server": {"host": "203.0.113.10", "user": "tunnel"},
      "remote": {"port": 8080}, "target": {"host": "localhost", "port": 80}, "private_key": PEM}
I("dup-remote-port", native([T1, T3]),
  "devices.edge-0042.tunnels[1].remote.port: 8080 on 127.0.0.1 of tunnel@203.0.113.10:22 is also used by tunnels[0]")
I("dup-remote-port-v6", native([dict(T3, name="a", server={"host": "2001:db8::10", "user": "t"}),
                                dict(T3, name="b", server={"host": "2001:DB8:0::10", "port": 22, "user": "u"})]),
  "devices.edge-0042.tunnels[1].remote.port: 8080 on 127.0.0.1 of u@[2001:DB8:0::10]:22 is also used by tunnels[0]")
I("dup-local-port", native([T1, dict(T1, name="plc", server={"host": "198.51.100.7", "user": "t"},
                                     target={"host": "192.0.2.60", "port": 502})]),
  "devices.edge-0042.tunnels[1].local_port: 10443 is also used by tunnels[0]")
V("native-remote-port-0-twice", native([T2, dict(T2, name="ssh2")]), "name=ssh2 ")
V("native-remote-port-other-bind", native([T1, dict(T3, remote={"bind": "127.0.0.2", "port": 8080})]), "name=web ")
for field in ("name", ("server", "host"), ("server", "user"), ("remote", "port"), ("target", "host"),
              ("target", "port"), "local_port", "server", "remote", "target"):
    f = field if isinstance(field, tuple) else (field,)
    I("missing-" + "-".join(f).replace("_", "-"), mut(f, None, delete=True), P + ".".join(f) + ": is missing")
for v, tag, msg in (("22abc", "str-22abc", "is a string"), (22.9, "float", "is a non-integer number"),
                    (True, "true", "is a boolean"), (None, "null", "is null"), ("22", "str-22", "is a string"),
                    (99999999999, "huge", "99999999999 is not a port"), (70000, "70000", "70000 is not a port"),
                    (0, "zero", "0 is not a port"), (-1, "minus1", "-1 is not a port"),
                    (65536, "65536", "65536 is not a port"), ({}, "object", "is an object")):
    I("target-port-" + tag, mut(("target", "port"), v), P + "target.port: " + msg)
I("target-port-1e400", dump(mut(("target", "port"), 1)).replace(b'"port": 1', b'"port": 1e400'), P + "target.port: is a non-integer")
I("target-port-bignum", dump(mut(("target", "port"), 1)).replace(b'"port": 1', b'"port": 99999999999999999999999'), P + "target.port:")
I("server-port-0", mut(("server", "port"), 0), P + "server.port: 0 is not a port")
I("remote-port-neg", mut(("remote", "port"), -1), P + "remote.port: -1 is not a port")
I("local-port-0", mut(("local_port",), 0), P + "local_port: 0 is not a port")
I("local-port-direct", mut(("via",), "direct"), P + "local_port: is only allowed")
I("via-bad", mut(("via",), "tproxy"), P + "via: 'tproxy' is not direct or dnat")
I("dnat-target-name", mut(("target", "host"), "inverter.lan"), "IPv4")
I("dnat-target-v6", mut(("target", "host"), "2001:db8::50"), "IPv4")
I("bind-wildcard", mut(("remote", "bind"), "0.0.0.0"), P + "remote.bind: '0.0.0.0'")
I("bind-v6-wildcard", mut(("remote", "bind"), "::"), P + "remote.bind: '::'")
for v, tag, msg in ((0, "0", "timeout: 0"), (-5, "neg", "timeout: -5"), (10**12, "huge", "timeout: 1000000000000"),
                    (3.5, "float", "timeout: is a non-integer"), ("3.5h", "str-float", "timeout: '3.5h' is not a duration"),
                    ("400d", "400d", "timeout: '400d' is longer than 365d"), ("5x", "5x", "timeout: '5x' is not a duration"),
                    (None, "null", "timeout: is null")):
    I("timeout-" + tag, mut(("timeout",), v), P + msg)
I("keepalive-interval-0", mut(("keepalive", "interval"), 0), P + "keepalive.interval: 0")
I("keepalive-count-101", mut(("keepalive", "count"), 101), P + "keepalive.count: 101")
I("keepalive-array", mut(("keepalive",), [30, 3]), P + "keepalive: is an array")
V("native-host-key-comment", mut(("server", "host_key"), HK + " root@vm\n"), "name=inverter-web ", "host_key=yes")
V("native-host-key-keyscan", mut(("server", "host_key"), "[203.0.113.10]:22 " + HK + "\n"), "name=inverter-web ",
  "host_key=yes")
V("native-host-key-hashed", mut(("server", "host_key"), "|1|JfKTdBh7rNbXkVAQCRp4OQoPfmI=|USECr3SWf1JUPsms5AqfD5QfxkM= " + HK),
  "host_key=yes")
I("host-key-two-lines", mut(("server", "host_key"), HK + "\n" + HK), P + "server.host_key: holds more than one line")
I("host-key-dss", mut(("server", "host_key"), "ssh-dss AAAAB3NzaC1kc3MAAACBAP"),
  P + "server.host_key: 'ssh-dss' is not a supported host key type")
I("host-key-cert-authority", mut(("server", "host_key"), "@cert-authority * " + HK),
  P + "server.host_key: is a known_hosts @cert-authority line")
I("host-key-type-mismatch", mut(("server", "host_key"), HK.replace("ssh-ed25519", "ssh-rsa")), P + "server.host_key")
I("host-key-null", mut(("server", "host_key"), None), P + "server.host_key: is null")
I("name-upper", mut(("name",), "Inverter"), P + "name: 'Inverter' is not a name")
I("name-long", mut(("name",), "a" * 33), P + "name:")
# B13/B14: keys
I("key-not-pem", mut(("private_key",), "hello"), P + "private_key:")
I("key-junk-before", mut(("private_key",), "junk\n" + PEM), P + "private_key:")
I("key-junk-after", mut(("private_key",), PEM + "junk\n"), P + "private_key:")
I("key-two-blocks", mut(("private_key",), PEM + PEM), P + "private_key:")
I("key-encrypted-pkcs8", mut(("private_key",), PEM.replace("OPENSSH", "ENCRYPTED")), P + "private_key: " + ENCRYPTED)
I("key-encrypted-openssh", mut(("private_key",), ENC_OPENSSH), P + "private_key: " + ENCRYPTED)
I("key-encrypted-pem", mut(("private_key",), ENC_PEM), P + "private_key: " + ENCRYPTED)
I("key-encrypted-b64", mut(("private_key",), base64.b64encode(ENC_OPENSSH.encode()).decode()),
  P + "private_key: base64 decodes to a text that " + ENCRYPTED)
I("key-huge", mut(("private_key",), PEM.replace("AAAASECRETKEYBYTES", "A" * (64 * 1024))), P + "private_key:")
I("key-b64-alphabet", mut(("private_key",), B64[:-4] + "!!!="), P + "private_key:")
I("key-b64-padding", mut(("private_key",), B64.rstrip("=")), P + "private_key:")
I("key-b64-blank-inside", mut(("private_key",), B64[:40] + " " + B64[40:]), P + "private_key: is neither PEM text nor base64")
I("key-b64-empty-line", mut(("private_key",), B64[:40] + "\n\n" + B64[40:]), P + "private_key: is neither PEM text nor base64")
I("key-public-line", mut(("private_key",), HK + " root@vm\n"), P + "private_key: is a public key; give the private key")
I("key-public-pem", mut(("private_key",), "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkq\n-----END PUBLIC KEY-----\n"),
  P + "private_key: is a public key; give the private key")
I("key-public-b64", mut(("private_key",), base64.b64encode((HK + " root@vm\n").encode()).decode()),
  P + "private_key: base64 decodes to a text that is a public key; give the private key")
I("key-b64-not-pem", mut(("private_key",), base64.b64encode(b"AAAASECRETKEYBYTES").decode()), P + "private_key:")
I("key-empty", mut(("private_key",), ""), P + "private_key: is empty")
I("key-number", mut(("private_key",), 1), P + "private_key: is an integer")
# S01/S02/S10: injection through every string field
for f in (("name",), ("server", "host"), ("server", "user"), ("server", "host_key"), ("remote", "bind"),
          ("target", "host"), ("via",), ("timeout",), ("private_key",)):
    I("inject-" + "-".join(f).replace("_", "-"), mut(f, INJ), P + ".".join(f) + ":")
I("inject-newline-host", mut(("server", "host"), "a\n[OK] tunnel up"), P + "server.host: 'a?[OK] tunnel up'")
I("inject-escape-host", mut(("server", "host"), "\x1b[31mred"), P + "server.host: '?[31mred'")
I("inject-semicolon-host", mut(("server", "host"), "h;id"), P + "server.host: 'h;id'")
I("inject-dollar-user", mut(("server", "user"), "$(id)"), P + "server.user: '$(id)'")
I("inject-backtick-target", mut(("target", "host"), "`id`"), P + "target.host: '`id`'")
I("inject-dashdash-user", mut(("server", "user"), "--"), P + "server.user: '--'")
I("inject-device-key", {"version": 1, "devices": {ID: {"tunnels": [T2], INJ: 1}}}, "unknown key")

# ---- invalid: SORACOM ----
S = "ssh.imsis.440101234567890."
for tag, pfp, msg in (
        ("extra-tokens", "2222:localhost:22 u@h -oProxyCommand=touch /tmp/pwn", "portForwardParam:"),
        ("option-user", "2222:localhost:22 -oProxyCommand=x@h", "user '-oProxyCommand=x'"),
        ("option-host", "2222:localhost:22 u@-oProxyCommand=x", "server host '-oProxyCommand=x'"),
        ("semicolon", "2222:localhost:22 u@h;id", "server host 'h;id'"),
        ("dollar", "2222:localhost:22 u@$(id)", "server host '$(id)'"),
        ("backtick", "2222:localhost:22 `id`@h", "user '`id`'"),
        ("newline", "2222:localhost:22 u@h\nid", "server host 'h?id'"),
        ("newline-sep", "2222:localhost:22\nu@h", "portForwardParam:"),
        ("tab", "2222:localhost:22\tu@h", "portForwardParam:"),
        ("double-space", "2222:localhost:22  u@h", "portForwardParam:"),
        ("star-bind", "*:2222:localhost:22 u@h", "bind address '*'"),
        ("wildcard-bind", "0.0.0.0:2222:localhost:22 u@h", "bind address '0.0.0.0' is a wildcard"),
        ("v6-bind", "[::]:2222:localhost:22 u@h", "bind address '::' is a wildcard"),
        ("v6-bare-target", "8080:2001:db8::5:22 u@h",
         "'8080:2001:db8::5:22' is not [BIND:]RPORT:THOST:TPORT (an IPv6 address goes in brackets"),
        ("v6-bare-bind", "::1:8080:localhost:22 u@h",
         "'::1:8080:localhost:22' is not [BIND:]RPORT:THOST:TPORT (an IPv6 address goes in brackets"),
        ("v6-brackets-name", "8080:[localhost]:22 u@h", "target host '[localhost]': brackets are for IPv6 addresses only"),
        ("v6-brackets-port", "8080:[::1]:[22] u@h", "'8080:[::1]:[22]' is not [BIND:]RPORT:THOST:TPORT"),
        ("v6-unclosed", "8080:[::1:22 u@h", "'8080:[::1:22' is not [BIND:]RPORT:THOST:TPORT"),
        ("v6-inject-target", "8080:[-oProxyCommand=x]:22 u@h", "target host '[-oProxyCommand=x]'"),
        ("v6-inject-host", "8080:[::1]:22 u@[-oProxyCommand=x]", "server host '[-oProxyCommand=x]'"),
        ("v6-semicolon", "8080:[::1;id]:22 u@h", "target host '[::1;id]' is not an IPv6 address"),
        ("v6-host-port", "8080:[::1]:22 u@[::1]:22", "server host '[::1]:22'"),
        ("missing-user", "2222:localhost:22 h", "'h' is not USER@HOST"),
        ("missing-dest", "2222:localhost:22", "portForwardParam:"),
        ("missing-tport", "2222:localhost u@h", "'2222:localhost' is not [BIND:]RPORT:THOST:TPORT"),
        ("leading-dash", "-R 2222:localhost:22 u@h", "portForwardParam:"),
        ("port-range", "70000:localhost:22 u@h", "remote port: '70000' is not a port"),
        ("tport-zero", "2222:localhost:0 u@h", "target port: '0' is not a port"),
        ("dash-p-bad", "2222:localhost:22 -p 99999 u@h", "server port: '99999'"),
        ("dash-o", "2222:localhost:22 -o 22 u@h", "'-o' is not -p"),
        ("dashdash", "2222:localhost:22 -- u@h", "portForwardParam:"),
        ("empty", "", "portForwardParam:")):
    I("soracom-pfp-" + tag, soracom(pfp), S + (msg if msg == "portForwardParam:" else "portForwardParam: " + msg))
I("soracom-pfp-number", soracom(8080), S + "portForwardParam: is an integer")
I("soracom-pfp-nul", dump(soracom("8080:localhost:22 t@h")).replace(b"t@h", b"t@h\\u0000 -oProxyCommand=x"),
  S + "portForwardParam: \\u0000 (NUL) in a string")
I("soracom-key-bad", soracom("8080:localhost:22 t@h", key="not a key"), S + "privateKey:")
I("soracom-key-encrypted", soracom("8080:localhost:22 t@h", key=ENC_OPENSSH), S + "privateKey: " + ENCRYPTED)
# No key in the document: the device's own key is used (tunnelctl key).
V("soracom-key-missing", {"ssh": {"imsis": {IMSI: {"portForwardParam": "8080:localhost:22 t@h"}}}}, "name=ssh ")
I("soracom-pfp-missing", {"ssh": {"imsis": {IMSI: {"privateKey": PEM}}}}, S + "portForwardParam: is missing")
I("soracom-unknown-key", {"ssh": {"imsis": {IMSI: {"portForwardParam": "8080:localhost:22 t@h", "privateKey": PEM, "x": 1}}}}, S + "x: unknown key")
I("soracom-unknown-top", dict(soracom("8080:localhost:22 t@h"), version=1), "version: unknown key")
I("soracom-imsis-array", {"ssh": {"imsis": []}}, "ssh.imsis: is an array")
I("soracom-other-not-object", {"ssh": {"imsis": {"440109999999999": "x"}}}, "ssh.imsis.440109999999999: is a string")

# subscriber documents for docctl --imsi
subscriber = {
    "valid": {"imsi": IMSI, "msisdn": "810123456789", "tags": {"name": "edge"}, "speedClass": "s1.standard"},
    "number": {"imsi": 440101234567890},
    "16-digits": {"imsi": "4401012345678901"},
    "traversal": {"imsi": "../../x"},
    "missing": {"msisdn": "1"},
}

for sub in ("valid", "invalid"):
    shutil.rmtree(os.path.join(HERE, sub), ignore_errors=True)
    os.makedirs(os.path.join(HERE, sub))
for name, (doc, expect) in valid.items():
    open(os.path.join(HERE, "valid", name + ".json"), "wb").write(doc)
    if expect:
        open(os.path.join(HERE, "valid", name + ".expect"), "w").write("\n".join(expect) + "\n")
for name, (doc, err) in invalid.items():
    open(os.path.join(HERE, "invalid", name + ".json"), "wb").write(doc)
    if err:
        open(os.path.join(HERE, "invalid", name + ".err"), "w").write(err + "\n")
shutil.rmtree(os.path.join(HERE, "subscriber"), ignore_errors=True)
os.makedirs(os.path.join(HERE, "subscriber"))
for name, doc in subscriber.items():
    open(os.path.join(HERE, "subscriber", name + ".json"), "wb").write(dump(doc))
print("%d valid, %d invalid, %d subscriber" % (len(valid), len(invalid), len(subscriber)))
