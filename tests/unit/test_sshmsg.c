/* test_sshmsg.c: every line recorded in docs/SSH-MESSAGES.md (OpenSSH 9.2p1,
 * autossh 1.4g) classified as the supervisor needs, plus hostile input. */
#include <stdint.h>
#include <string.h>

#include "sshmsg.h"
#include "tap.h"

#define NONE TC_SSHEV_NONE
#define CONN TC_SSHEV_CONNECTING
#define UP TC_SSHEV_UP
#define ALLOC TC_SSHEV_ALLOCATED
#define RETRY TC_SSHEV_RETRY
#define FATAL TC_SSHEV_FATAL
#define EXITED TC_SSHEV_EXITED

struct fixture {
	const char *line;
	enum tc_sshev ev;
	int port;		/* -1: not checked */
	const char *text;	/* NULL: not checked */
};

/* Real lines, exactly as ssh/autossh printed them (ssh adds "\r"). */
static const struct fixture real[] = {
	/* success, remote port 0, LogLevel=DEBUG1 */
	{ "debug1: Connecting to 127.0.0.1 [127.0.0.1] port 45803.\r", NONE, 0, "" },
	{ "debug1: Connection established.\r", NONE, 0, "" },
	{ "debug1: identity file /tmp/sx/d/client_key type 3\r", NONE, 0, "" },
	{ "debug1: Local version string SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u10\r", NONE, 0, "" },
	{ "debug1: Remote protocol version 2.0, remote software version OpenSSH_9.2p1 Debian-2+deb12u10\r", NONE, 0, "" },
	{ "debug1: Authenticating to 127.0.0.1:45803 as 'root'\r", NONE, 0, "" },
	{ "debug1: Server host key: ssh-ed25519 SHA256:GyGSKq/bDiH/TGqby9G2uRSMF04FPxIQqIESCnjTNBM\r", NONE, 0, "" },
	{ "debug1: Host '[127.0.0.1]:45803' is known and matches the ED25519 host key.\r", NONE, 0, "" },
	{ "debug1: Found key in d/known_hosts:2\r", NONE, 0, "" },
	{ "debug1: Will attempt key: /tmp/sx/d/client_key ED25519 SHA256:JGWT5rfOx6tLKV5sYJlYF7W2BHXsiXbWD7V+Jpch6Fc explicit\r", NONE, 0, "" },
	{ "debug1: Offering public key: /tmp/sx/d/client_key ED25519 SHA256:JGWT5rfOx6tLKV5sYJlYF7W2BHXsiXbWD7V+Jpch6Fc explicit\r", NONE, 0, "" },
	{ "debug1: Server accepts key: /tmp/sx/d/client_key ED25519 SHA256:JGWT5rfOx6tLKV5sYJlYF7W2BHXsiXbWD7V+Jpch6Fc explicit\r", NONE, 0, "" },
	{ "Authenticated to 127.0.0.1 ([127.0.0.1]:45803) using \"publickey\".\r", NONE, 0, "" },
	{ "debug1: Remote connections from 127.0.0.1:0 forwarded to local address 127.0.0.1:22\r", NONE, 0, "" },
	{ "debug1: ssh_init_forwarding: expecting replies for 1 forwards\r", NONE, 0, "" },
	{ "debug1: Requesting no-more-sessions@openssh.com\r", NONE, 0, "" },
	{ "debug1: Entering interactive session.\r", NONE, 0, "" },
	{ "debug1: Remote: /tmp/sx/d/authorized_keys:1: key options: agent-forwarding port-forwarding pty user-rc x11-forwarding\r", NONE, 0, "" },
	{ "debug1: remote forward success for: listen 127.0.0.1:0, connect 127.0.0.1:22\r", UP, 0,
	  "remote forward success for: listen 127.0.0.1:0, connect 127.0.0.1:22" },
	{ "Allocated port 44977 for remote forward to 127.0.0.1:22\r", ALLOC, 44977,
	  "Allocated port 44977 for remote forward to 127.0.0.1:22" },
	{ "debug1: Updating allowed port 44977 for forwarding to host 127.0.0.1 port 22\r", NONE, 0, "" },
	{ "debug1: forwarding_success: all expected forwarding replies received\r", NONE, 0, "" },
	/* fixed port */
	{ "debug1: remote forward success for: listen 127.0.0.1:34105, connect 127.0.0.1:45803\r", UP, 34105, NULL },
	/* per forwarded connection */
	{ "debug1: client_request_forwarded_tcpip: listen 127.0.0.1 port 34105, originator 127.0.0.1 port 48378\r", NONE, 0, "" },
	{ "debug1: channel 0: free: 127.0.0.1, nchannels 1\r", NONE, 0, "" },
	/* ssh ends on SIGTERM */
	{ "Transferred: sent 3412, received 3148 bytes, in 1.3 seconds\r", NONE, 0, "" },
	{ "Bytes per second: sent 2574.1, received 2374.9\r", NONE, 0, "" },
	{ "debug1: Exit status 0\r", NONE, 0, "" },
	{ "debug1: Exit status -1\r", NONE, 0, "" },
	/* server down */
	{ "debug1: connect to address 127.0.0.1 port 58253: Connection refused\r", NONE, 0, "" },
	{ "ssh: connect to host 127.0.0.1 port 58253: Connection refused\r", RETRY, 0,
	  "connect to host 127.0.0.1 port 58253: Connection refused" },
	/* remote port busy */
	{ "debug1: remote forward failure for: listen 127.0.0.1:41999, connect 127.0.0.1:22\r", NONE, 0, "" },
	{ "Error: remote port forwarding failed for listen port 41999\r", RETRY, 41999,
	  "remote port forwarding failed for listen port 41999" },
	{ "Warning: remote port forwarding failed for listen port 20022\r", RETRY, 20022, NULL },
	/* wrong / changed host key */
	{ "@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@\r", NONE, 0, "" },
	{ "@    WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED!     @\r", FATAL, 0,
	  "host key mismatch: remote host identification has changed" },
	{ "IT IS POSSIBLE THAT SOMEONE IS DOING SOMETHING NASTY!\r", NONE, 0, "" },
	{ "Someone could be eavesdropping on you right now (man-in-the-middle attack)!\r", NONE, 0, "" },
	{ "It is also possible that a host key has just been changed.\r", NONE, 0, "" },
	{ "The fingerprint for the ED25519 key sent by the remote host is\r", NONE, 0, "" },
	{ "SHA256:GyGSKq/bDiH/TGqby9G2uRSMF04FPxIQqIESCnjTNBM.\r", NONE, 0, "" },
	{ "Please contact your system administrator.\r", NONE, 0, "" },
	{ "Add correct host key in kh_wrong to get rid of this message.\r", NONE, 0, "" },
	{ "Offending ED25519 key in kh_wrong:1\r", NONE, 0, "" },
	{ "  remove with:\r", NONE, 0, "" },
	{ "  ssh-keygen -f \"kh_wrong\" -R \"[127.0.0.1]:45803\"\r", NONE, 0, "" },
	{ "Host key for [127.0.0.1]:45803 has changed and you have requested strict checking.\r", FATAL, 0,
	  "Host key for [127.0.0.1]:45803 has changed and you have requested strict checking." },
	{ "Host key verification failed.\r", FATAL, 0, "host key verification failed" },
	/* unknown host key */
	{ "No ED25519 host key is known for [127.0.0.1]:45803 and you have requested strict checking.\r", FATAL, 0, NULL },
	{ "debug1: checking without port identifier\r", NONE, 0, "" },
	{ "Warning: Permanently added '[127.0.0.1]:45803' (ED25519) to the list of known hosts.\r", NONE, 0, "" },
	/* authentication and keys */
	{ "debug1: No more authentication methods to try.\r", NONE, 0, "" },
	{ "root@127.0.0.1: Permission denied (publickey).\r", FATAL, 0,
	  "root@127.0.0.1: Permission denied (publickey)." },
	{ "Load key \"/tmp/sx/bad_key\": error in libcrypto\r", FATAL, 0, "Load key \"/tmp/sx/bad_key\": error in libcrypto" },
	{ "no such identity: /tmp/sx/missing_key: No such file or directory\r", FATAL, 0, NULL },
	{ "@         WARNING: UNPROTECTED PRIVATE KEY FILE!          @\r", FATAL, 0,
	  "private key file permissions are too open" },
	{ "Permissions 0644 for '/tmp/sx/open_key' are too open.\r", NONE, 0, "" },
	{ "It is required that your private key files are NOT accessible by others.\r", NONE, 0, "" },
	{ "This private key will be ignored.\r", NONE, 0, "" },
	{ "Load key \"/tmp/sx/open_key\": bad permissions\r", FATAL, 0, NULL },
	/* server restarted / keepalive */
	{ "Connection to 127.0.0.1 closed by remote host.\r", RETRY, 0, "Connection to 127.0.0.1 closed by remote host." },
	{ "Timeout, server 127.0.0.1 not responding.\r", RETRY, 0, "Timeout, server 127.0.0.1 not responding." },
	/* DNS and network */
	{ "ssh: Could not resolve hostname tunnel.example.invalid: Temporary failure in name resolution\r", RETRY, 0,
	  "Could not resolve hostname tunnel.example.invalid: Temporary failure in name resolution" },
	{ "ssh: Could not resolve hostname tunnel.example.invalid: Name or service not known\r", RETRY, 0, NULL },
	{ "ssh: connect to host 203.0.113.7 port 45803: Network is unreachable\r", RETRY, 0, NULL },
	{ "ssh: connect to host 198.51.100.9 port 45803: No route to host\r", RETRY, 0, NULL },
	{ "ssh: connect to host 198.51.100.10 port 45803: Connection timed out\r", RETRY, 0, NULL },
	/* peer not an sshd */
	{ "kex_exchange_identification: read: Connection reset by peer\r", RETRY, 0, NULL },
	{ "Connection reset by 127.0.0.1 port 38443\r", RETRY, 0, NULL },
	{ "kex_exchange_identification: Connection closed by remote host\r", RETRY, 0, NULL },
	{ "Connection closed by 127.0.0.1 port 35989\r", RETRY, 0, NULL },
	{ "ssh: connect to host 127.0.0.1 port 44757: Connection reset by peer\r", RETRY, 0, NULL },
	{ "Connection timed out during banner exchange\r", RETRY, 0, NULL },
	{ "Connection to 127.0.0.1 port 38547 timed out\r", RETRY, 0, NULL },
	/* configuration mistakes */
	{ "Bad remote forwarding specification '127.0.0.1::127.0.0.1:22'\r", FATAL, 0, NULL },
	{ "Unable to negotiate with 127.0.0.1 port 45803: no matching host key type found. Their offer: ssh-ed25519\r", FATAL, 0, NULL },
	/* autossh, AUTOSSH_LOGFILE=/dev/stderr */
	{ "2026/11/23 11:04:07 autossh[22931]: port set to 0, monitoring disabled", NONE, 0, "" },
	{ "2026/11/23 11:04:07 autossh[22931]: ssh child pid is 22936", NONE, 0, "" },
	{ "2026/11/23 11:04:07 autossh[22931]: starting ssh (count 1)", CONN, 0, "starting ssh (count 1)" },
	{ "2026/11/23 11:07:00 autossh[31713]: ssh exited with error status 255; restarting ssh", EXITED, 0,
	  "ssh exited with error status 255; restarting ssh" },
	{ "2026/11/23 11:06:56 autossh[31610]: ssh exited on signal 9, restarting ssh", EXITED, 0, NULL },
	{ "2026/11/23 11:06:54 autossh[31589]: ssh exited with status 0; autossh exiting", EXITED, 0, NULL },
	{ "2026/11/23 11:04:36 autossh[24372]: ssh exited prematurely with status 255; autossh exiting", EXITED, 0, NULL },
	{ "2026/11/23 11:04:09 autossh[22931]: received signal to exit (15)", EXITED, 0, "received signal to exit (15)" },
	{ "2026/11/23 11:06:37 autossh[31336]: signalled to exit", EXITED, 0, NULL },
	{ "2026/11/23 11:06:02 autossh[28426]: signalled to kill and restart ssh", EXITED, 0, NULL },
	{ "2026/11/23 11:04:36 autossh[23206]: checking for grace period, tries = 8", NONE, 0, "" },
	{ "2026/11/23 11:04:36 autossh[23206]: sleeping for grace time 18 secs", NONE, 0, "" },
	{ "2026/11/23 11:04:36 autossh[24390]: child of 23206 execing /usr/bin/ssh", NONE, 0, "" },
	{ "2026/11/23 11:04:36 autossh[23206]: clear alarm timer (600 secs left)", NONE, 0, "" },
	/* AUTOSSH_DEBUG form (no timestamp) */
	{ "autossh[24378]: starting ssh (count 2)", CONN, 0, NULL },
	/* from OpenSSH / autossh sources, not reproduced here */
	{ "client_loop: send disconnect: Broken pipe\r", RETRY, 0, "client_loop: send disconnect: Broken pipe" },
	{ "Read from remote host 198.51.100.1: Connection reset by peer\r", RETRY, 0, NULL },
	{ "Received disconnect from 127.0.0.1 port 22:11: Bye\r", RETRY, 0, NULL },
	{ "Port forwarding is disabled to avoid man-in-the-middle attacks.\r", FATAL, 0, NULL },
	{ "Error: forwarding disabled due to host key check failure\r", FATAL, 0, NULL },
	{ "2026/11/23 11:04:36 autossh[1]: /usr/bin/ssh: No such file or directory", FATAL, 0,
	  "/usr/bin/ssh: No such file or directory" },
	{ "2026/11/23 11:04:36 autossh[1]: starting ssh (count 3 of 10)", CONN, 0, NULL },
	{ "2026/11/23 11:04:36 autossh[1]: max start count reached; exiting", EXITED, 0, NULL },
};

static int
text_is_clean(const struct tc_sshmsg *m)
{
	size_t i;

	for (i = 0; i < sizeof(m->text); i++) {
		if (m->text[i] == '\0')
			return 1;
		if (m->text[i] < 0x20 || m->text[i] > 0x7e)
			return 0;
	}
	return 0;	/* not terminated */
}

static void
parse_str(const char *s, struct tc_sshmsg *m)
{
	tc_sshmsg_parse(s, strlen(s), m);
}

static void
test_real_lines(void)
{
	size_t i;
	struct tc_sshmsg m;

	for (i = 0; i < sizeof(real) / sizeof(real[0]); i++) {
		parse_str(real[i].line, &m);
		is_int(m.ev, real[i].ev, "event of: %.70s", real[i].line);
		if (real[i].port >= 0 && m.port != real[i].port)
			is_int(m.port, real[i].port, "port of: %.70s", real[i].line);
		/* A line no rule knows keeps its text, flagged unknown. */
		if (real[i].text != NULL && strcmp(m.text, real[i].text) != 0 &&
		    !(m.ev == NONE && m.unknown && real[i].ev == NONE))
			is_str(m.text, real[i].text, "text of: %.70s", real[i].line);
		if (!text_is_clean(&m))
			ok(0, "text is printable ASCII for: %.70s", real[i].line);
	}
}

static void
test_counts(void)
{
	struct tc_sshmsg m;

	parse_str("2026/11/23 11:04:07 autossh[22931]: starting ssh (count 1)", &m);
	is_int(m.count, 1, "first autossh start has count 1");
	parse_str("2026/11/23 11:04:54 autossh[23206]: starting ssh (count 17)", &m);
	is_int(m.count, 17, "count 17 parsed");
	parse_str("autossh[5]: starting ssh (count 3 of 10)", &m);
	is_int(m.count, 3, "count N of M gives N");
	parse_str("autossh[5]: starting ssh (count 99999999999999999999)", &m);
	is_int(m.ev, CONN, "huge count is still a start");
	ok(m.count <= 999999999u, "huge count does not wrap");
	parse_str("Allocated port 1 for remote forward to 127.0.0.1:22", &m);
	is_int(m.count, 0, "count is 0 for other events");
}

static void
test_ports(void)
{
	struct tc_sshmsg m;

	parse_str("Allocated port 65535 for remote forward to 127.0.0.1:22", &m);
	is_int(m.port, 65535, "allocated port 65535");
	parse_str("Allocated port 65536 for remote forward to 127.0.0.1:22", &m);
	is_int(m.ev, NONE, "allocated port 65536 is not a port");
	/* tunnelctl-gate's lines, as the device's ssh passes them on */
	parse_str("tunnelctl-gate: closed: expired\r", &m);
	is_int(m.ev, TC_SSHEV_GATE_EXPIRED, "gate: closed: expired");
	parse_str("tunnelctl-gate: closed: revoked: site visit over\r", &m);
	ok(m.ev == TC_SSHEV_GATE_REVOKED && strcmp(m.text, "revoked: site visit over") == 0,
	   "gate: closed: revoked: REASON, the reason kept");
	parse_str("tunnelctl-gate: closed: revoked: \033[31mred\033[0m\x07", &m);
	ok(m.ev == TC_SSHEV_GATE_REVOKED && strcmp(m.text, "revoked: red?") == 0,
	   "gate: a revocation reason is sanitized");
	parse_str("tunnelctl-gate: refused: tunnel: 'Bad!' is not a name\r", &m);
	ok(m.ev == TC_SSHEV_FATAL && strstr(m.text, "refused: tunnel") != NULL, "gate: refused is fatal, why kept");
	parse_str("tunnelctl-gate: registered edge-1/web port 8080 until never\r", &m);
	ok(m.ev == TC_SSHEV_NONE && !m.unknown, "gate: registered is noted, not an event");
	parse_str("bash: line 1: tunnelctl-gate: command not found\r", &m);
	ok(m.ev == TC_SSHEV_FATAL && strstr(m.text, "does not run tunnelctl-gate") != NULL,
	   "an account without the gate (bash) is fatal, and says so");
	parse_str("sh: 1: tunnelctl-gate: not found", &m);
	is_int(m.ev, TC_SSHEV_FATAL, "an account without the gate (dash)");
	parse_str("zsh:1: command not found: tunnelctl-gate", &m);
	is_int(m.ev, TC_SSHEV_FATAL, "an account without the gate (zsh)");
	parse_str("tunnelctl-gate: something new", &m);
	ok(m.ev == TC_SSHEV_NONE && m.unknown, "an unknown gate line is an unknown message");
	parse_str("command-line line 0: garbage at end of line; \"space/key\".\r", &m);
	ok(m.ev == NONE && m.unknown && strcmp(m.text, "command-line line 0: garbage at end of line; "
						      "\"space/key\".") == 0,
	   "an unknown ssh message is kept as text, flagged unknown");
	parse_str("Transferred: sent 3412, received 3148 bytes, in 1.3 seconds\r", &m);
	ok(m.ev == NONE && !m.unknown && m.text[0] == '\0', "ssh's -v chatter is not unknown");
	parse_str("debug1: Entering interactive session.\r", &m);
	ok(m.ev == NONE && !m.unknown && m.text[0] == '\0', "a debug line is never unknown");
	parse_str("This private key will be ignored.\r", &m);
	ok(m.ev == NONE && !m.unknown && m.text[0] == '\0', "a line about a private key is never kept");
	parse_str("Allocated port 0 for remote forward to 127.0.0.1:22", &m);
	is_int(m.ev, NONE, "allocated port 0 is not an allocation");
	parse_str("Allocated port 999999999999 for remote forward to x:1", &m);
	is_int(m.ev, NONE, "overlong allocated port refused");
	parse_str("Allocated port for remote forward to x:1", &m);
	is_int(m.ev, NONE, "allocated without a number refused");
	parse_str("Allocated port 123abc for remote forward to x:1", &m);
	is_int(m.ev, NONE, "allocated with junk after digits refused");
	parse_str("debug1: remote forward success for: listen ::1:8080, connect 127.0.0.1:22", &m);
	is_int(m.ev, UP, "IPv6 listen: up");
	is_int(m.port, 8080, "IPv6 listen: port after the last colon");
	parse_str("debug1: remote forward success for: listen [::1]:2222, connect [::1]:22", &m);
	is_int(m.port, 2222, "bracketed IPv6 listen port");
	parse_str("debug1: remote forward success for: listen 127.0.0.1:99999, connect x:1", &m);
	is_int(m.ev, UP, "up even when the port is garbled");
	is_int(m.port, 0, "garbled port reads as 0");
	parse_str("debug1: remote forward success for: listen garbage", &m);
	is_int(m.ev, UP, "up without a connect part");
	is_int(m.port, 0, "no port without a connect part");
	parse_str("Error: remote port forwarding failed for listen port 70000", &m);
	is_int(m.ev, RETRY, "forward failed with a bad port is still a retry");
	is_int(m.port, 0, "bad port not reported");
}

static void
test_hostile(void)
{
	struct tc_sshmsg m;
	char big[5000];
	char all[256];
	size_t i;

	/* not NUL-terminated: only len bytes are read */
	tc_sshmsg_parse("Host key verification failed.XXXX", 29, &m);
	is_int(m.ev, FATAL, "length-bounded input");
	is_str(m.text, "host key verification failed", "length-bounded text");

	/* embedded NUL cannot hide or create a match */
	tc_sshmsg_parse("Timeout, server a\0b not responding.", 35, &m);
	is_int(m.ev, RETRY, "embedded NUL: still classified");
	is_str(m.text, "Timeout, server a?b not responding.", "embedded NUL shown as ?");
	tc_sshmsg_parse("debug1: x\0Host key verification failed.", 40, &m);
	is_int(m.ev, NONE, "NUL does not start a new line");

	/* ESC sequences and control bytes are stripped from text */
	parse_str("ssh: connect to host \x1b[31mevil\x1b[0m port 22: Connection refused\x07", &m);
	is_int(m.ev, RETRY, "escapes: still a retry");
	is_str(m.text, "connect to host evil port 22: Connection refused?", "escapes stripped, BEL shown as ?");
	ok(text_is_clean(&m), "escaped text clean");
	parse_str("Connection to h closed by remote host.\x1b", &m);
	ok(text_is_clean(&m), "trailing lone ESC");
	parse_str("Connection to h closed by remote host.\x1b[", &m);
	ok(text_is_clean(&m), "unterminated CSI");
	parse_str("Connection to \xff\xfe\xc3\xa9 closed by remote host.", &m);
	is_str(m.text, "Connection to ???? closed by remote host.", "8-bit bytes shown as ?");
	parse_str("Timeout, server a\nb not responding.", &m);
	is_str(m.text, "Timeout, server a?b not responding.", "inner newline shown as ?");
	parse_str("Timeout, server a\tb not responding.  \r\r", &m);
	is_str(m.text, "Timeout, server a b not responding.", "tab to space, trailing CR/blank trimmed");

	/* nothing that looks like key material is echoed */
	parse_str("-----BEGIN OPENSSH PRIVATE KEY-----", &m);
	is_int(m.ev, NONE, "PEM header ignored");
	is_str(m.text, "", "PEM header not echoed");
	parse_str("Load key \"x\": -----BEGIN RSA PRIVATE KEY----- b3BlbnNzaC1rZXktdjEAAAAA", &m);
	is_int(m.ev, NONE, "error line carrying a PEM header ignored");
	is_str(m.text, "", "nothing echoed");
	parse_str("root@h: Permission denied (publickey). private key: AAAA", &m);
	is_str(m.text, "", "lowercase 'private key' not echoed");

	/* server-controlled debug lines cannot fake events */
	parse_str("debug1: Remote: remote forward success for: listen 127.0.0.1:22, connect x:1", &m);
	is_int(m.ev, NONE, "Remote: debug text is not trusted");
	parse_str("debug1: kex_exchange_identification: banner line 0: Allocated port 1 for remote forward to x:1", &m);
	is_int(m.ev, NONE, "pre-banner text is not trusted");
	parse_str("debug1: Remote protocol version 2.0, remote software version Host key verification failed.", &m);
	is_int(m.ev, NONE, "server version string is not trusted");
	parse_str("debug2: remote forward success for: listen 127.0.0.1:22, connect x:1", &m);
	is_int(m.ev, NONE, "debug2 ignored");
	parse_str("xautossh[1]: starting ssh (count 1)", &m);
	is_int(m.ev, NONE, "autossh prefix must be exact");
	parse_str("autossh[]: starting ssh (count 1)", &m);
	is_int(m.ev, NONE, "autossh prefix needs a pid");
	parse_str("2026/11/23 11:04:07 autossh[1] starting ssh (count 1)", &m);
	is_int(m.ev, NONE, "autossh prefix needs ']: '");

	/* sizes */
	tc_sshmsg_parse("", 0, &m);
	is_int(m.ev, NONE, "empty line");
	tc_sshmsg_parse(NULL, 10, &m);
	is_int(m.ev, NONE, "NULL line");
	memset(big, 'A', sizeof(big));
	memcpy(big, "Connection to ", 14);
	tc_sshmsg_parse(big, sizeof(big), &m);
	is_int(m.ev, RETRY, "5000-byte line classified by its start");
	is_int(strlen(m.text), sizeof(m.text) - 1, "long text cut to fit");
	ok(text_is_clean(&m), "long text clean");
	memcpy(big + sizeof(big) - 20, "Permission denied (", 19);
	tc_sshmsg_parse(big, sizeof(big), &m);
	is_int(m.ev, RETRY, "beyond TC_SSHMSG_LINE_MAX is not looked at");

	for (i = 0; i < sizeof(all); i++)
		all[i] = (char)i;
	tc_sshmsg_parse(all, sizeof(all), &m);
	ok(text_is_clean(&m), "all byte values: clean");
	tc_sshmsg_parse(all + 1, sizeof(all) - 1, &m);
	ok(text_is_clean(&m), "all byte values from 1: clean");

	/* out is fully rewritten each time */
	parse_str("Allocated port 4242 for remote forward to 127.0.0.1:22", &m);
	parse_str("debug1: nothing", &m);
	is_int(m.port, 0, "port reset between calls");
	is_str(m.text, "", "text reset between calls");
}

int
main(void)
{
	test_real_lines();
	test_counts();
	test_ports();
	test_hostile();
	return tap_done();
}
