# SPDX-License-Identifier: BSD-3-Clause
"""A plain SIP-over-TLS registrar and proxy for proving test peers (the
load generator tests/tools/mr_sipload, linphone_lab.py, baresip_lab.py)
before mrelay's own SIP front-end exists: Debian's Kamailio 5.6 with the
route of kamailio_call.py minus rtpengine (SDP passes through untouched),
with or without digest authentication, plus the throwaway certificates
such labs need.

  Kamailio(lab, ns, tmp, ip)   TLS on ip:5061 (tls_port) only; ns None:
                               the host's namespace (a loopback address
                               and a port of the caller's). REGISTER saved in
                               memory (usrloc db_mode 0) with the flow it
                               came on (fix_nated_register, contact
                               aliases), so calls reach clients behind a
                               NAT over their own connection; INVITE to a
                               registered user relayed record-routed; in
                               dialog requests loose-routed. Anything not
                               over TLS gets 403, other out-of-dialog
                               methods 405, OPTIONS to the proxy 200.
                               With plain=True it also listens on TCP
                               ip:5060 (where every request gets the 403),
                               so a test can see plaintext refused.
                               With mtls_ca=CA, TLS on ip:5062 too,
                               where a client must present a
                               certificate chaining to CA (mutual TLS).
  Certs(tmp)                   .ca(name) a throwaway CA (EC P-256);
                               .server(ca, ip) a certificate for ip (CN,
                               subjectAltName IP and, for linphone, the
                               same as DNS) signed by it, with
                               its key, the chain file (leaf + CA) next to
                               them; .client(ca, name) a client
                               certificate (clientAuth) and its key.

Host changes: none of its own. Processes go through nslab.Lab.spawn
(stopped at cleanup), files into the caller's directory.
"""
import os
import shutil
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import nslab as L  # noqa: E402
from nslab import Fail  # noqa: E402
from harness import stop_process  # noqa: E402
from baresip_lab import ns_socket  # noqa: E402

KAMAILIO = shutil.which("kamailio") or "/usr/sbin/kamailio"
KAMAILIO_MODULES = "/usr/lib/x86_64-linux-gnu/kamailio/modules"
TLS_PORT = 5061
PLAIN_PORT = 5060
MTLS_PORT = 5062


def installed():
    """kamailio with its tls module (scripts/setup.sh: kamailio, kamailio-tls-modules)."""
    return os.access(KAMAILIO, os.X_OK) and os.path.exists(os.path.join(KAMAILIO_MODULES, "tls.so"))


# What every configuration here loads before its own modules: TLS,
# transactions, record-routing, a registrar in memory, NAT-safe contacts.
MODULES = ("tls", "tm", "sl", "rr", "pv", "maxfwd", "usrloc", "registrar", "textops", "siputils", "xlog",
           "nathelper")


def cfg_head(tmp, listen, tcp_children, extra_globals="", modules=(), modparams=""):
    """The start of a configuration (kamailio_cfg(), kamailio_call.py's):
    core settings with TLS on the @listen lines (each ending in a
    newline), @tcp_children TCP readers and @extra_globals; MODULES then
    @modules loaded; their settings (TLS from tmp/kamailio-tls.cfg, which
    Kamailio writes from tls_cfg(); the registrar in memory, remembering
    the flow a REGISTER came on) then @modparams. The routes follow."""
    return r"""#!KAMAILIO
debug=2
log_stderror=yes
children=2
tcp_children=%(tcp_children)d
auto_aliases=no
enable_tls=yes
%(listen)stcp_connection_lifetime=3605
%(globals)smpath="%(mods)s"

%(load)s
modparam("tls", "config", "%(tmp)s/kamailio-tls.cfg")
modparam("rr", "append_fromtag", 1)
modparam("usrloc", "db_mode", 0)
modparam("registrar", "received_avp", "$avp(RECEIVED)")
modparam("nathelper", "received_avp", "$avp(RECEIVED)")
%(modparams)s""" % {"tcp_children": tcp_children, "listen": listen, "globals": extra_globals,
                    "mods": KAMAILIO_MODULES,
                    "load": "".join('loadmodule "%s.so"\n' % m for m in MODULES + tuple(modules)),
                    "tmp": tmp, "modparams": modparams}


def kamailio_cfg(tmp, ip, plain, domain, password, mtls, tls_port=TLS_PORT):
    listen = "listen=tls:%s:%d\n" % (ip, tls_port)
    if mtls:
        listen += "listen=tls:%s:%d\n" % (ip, MTLS_PORT)
    if plain:
        listen += "listen=tcp:%s:%d\n" % (ip, PLAIN_PORT)
    # Digest (MD5) with one password for every user, from the script
    # (auth's pv_*_authenticate: no database), realm = the To/From domain.
    auth_reg = auth_inv = ""
    if password is not None:
        auth_reg = """
		if (!pv_www_authenticate("$td", "%s", "0")) {
			www_challenge("$td", "0");
			exit;
		}
		consume_credentials();""" % password
        auth_inv = """
	if (!pv_proxy_authenticate("$fd", "%s", "0")) {
		proxy_challenge("$fd", "0");
		exit;
	}
	consume_credentials();""" % password
    # tcp_children=1: with two TCP readers Debian's Kamailio 5.6.3 on
    # OpenSSL 3 sometimes fails a TLS connection ("digital envelope
    # routines::unsupported algorithm", about 1 run in 15 of the load
    # case) or a reader dies of SIGSEGV; one reader never did in 25 runs.
    head = cfg_head(tmp, listen, 1, 'alias="%s"\ntcp_max_connections=4096\ntls_max_connections=4096\n' % domain,
                    ["auth"])
    return head + r"""
request_route {
	if (!mf_process_maxfwd_header("10")) {
		sl_send_reply("483", "Too Many Hops");
		exit;
	}
	if ($pr != "tls") {
		xlog("L_NOTICE", "refused $rm over $pr from $si:$sp\n");
		sl_send_reply("403", "SIP over TLS only");
		exit;
	}
	force_rport();
	if (is_method("REGISTER")) {
		xlog("L_NOTICE", "REGISTER $tu from $si:$sp over $pr\n");%(auth_reg)s
		fix_nated_register();
		if (!save("location"))
			sl_reply_error();
		exit;
	}
	if (has_totag()) {
		if (loose_route()) {
			handle_ruri_alias();
			if (is_method("INVITE"))
				add_contact_alias();
			t_on_reply("CONTACT");
			t_relay();
			exit;
		}
		if (is_method("ACK") && t_check_trans())
			t_relay();
		exit;
	}
	if (is_method("CANCEL")) {
		if (t_check_trans())
			t_relay();
		exit;
	}
	t_check_trans();
	if (is_method("OPTIONS") && $rU == $null) {
		sl_send_reply("200", "OK");
		exit;
	}
	if (!is_method("INVITE")) {
		sl_send_reply("405", "Method Not Allowed");
		exit;
	}%(auth_inv)s
	if (!lookup("location")) {
		sl_send_reply("404", "Not Found");
		exit;
	}
	record_route();
	add_contact_alias();
	t_on_reply("CONTACT");
	t_relay();
}

onreply_route[CONTACT] {
	if (is_method("INVITE") && status =~ "(18[0-9])|(2[0-9][0-9])")
		add_contact_alias();
}
""" % {"auth_reg": auth_reg, "auth_inv": auth_inv}


def tls_cfg(key, crt, ip, mtls_ca):
    mtls = ""
    if mtls_ca:
        mtls = """
[server:%(ip)s:%(port)d]
method = TLSv1.2+
verify_certificate = yes
require_certificate = yes
private_key = %(key)s
certificate = %(crt)s
ca_list = %(ca)s
""" % {"ip": ip, "port": MTLS_PORT, "key": key, "crt": crt, "ca": mtls_ca}
    return """[server:default]
method = TLSv1.2+
verify_certificate = no
require_certificate = no
private_key = %(key)s
certificate = %(crt)s

[client:default]
method = TLSv1.2+
verify_certificate = no
require_certificate = no
""" % {"key": key, "crt": crt} + mtls


class Certs:
    """Throwaway CAs and server certificates in @tmp (openssl, EC P-256,
    valid two days)."""

    def __init__(self, tmp):
        self.tmp = tmp

    def _ossl(self, *args):
        p = subprocess.run(["openssl"] + list(args), capture_output=True, text=True, timeout=60, cwd=self.tmp)
        if p.returncode != 0:
            raise Fail("openssl %s: %s" % (args[0], p.stderr.strip()))

    def ca(self, name):
        """CA @name: returns the path of name-ca.crt (its key beside it)."""
        self._ossl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                   "-keyout", "%s-ca.key" % name, "-out", "%s-ca.crt" % name, "-days", "2",
                   "-subj", "/CN=mrelay test CA %s" % name,
                   "-addext", "basicConstraints=critical,CA:TRUE",
                   "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        return os.path.join(self.tmp, "%s-ca.crt" % name)

    def server(self, ca_crt, host, name="server"):
        """A server certificate for @host (an IP address or a DNS name: CN
        and subjectAltName) signed by @ca_crt. Returns (cert, key, chain)."""
        ca = os.path.splitext(os.path.basename(ca_crt))[0]
        self._ossl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                   "-keyout", "%s.key" % name, "-out", "%s.csr" % name, "-subj", "/CN=%s" % host)
        try:
            socket.inet_aton(host)
            # The address as a DNS name too: linphone's TLS (bctoolbox on
            # mbedtls 2) matches only dNSName entries once a certificate
            # has subjectAltName, and reports CN-mismatch on an IP entry.
            san = "IP:%s, DNS:%s" % (host, host)
        except OSError:
            san = "DNS:%s" % host
        with open(os.path.join(self.tmp, "%s.ext" % name), "w") as f:
            f.write("subjectAltName = %s\nextendedKeyUsage = serverAuth\n"
                    "basicConstraints = critical,CA:FALSE\n" % san)
        self._ossl("x509", "-req", "-in", "%s.csr" % name, "-CA", ca_crt, "-CAkey", ca + ".key",
                   "-CAcreateserial", "-out", "%s.crt" % name, "-days", "2", "-extfile", "%s.ext" % name)
        crt, key = os.path.join(self.tmp, name + ".crt"), os.path.join(self.tmp, name + ".key")
        chain = os.path.join(self.tmp, name + "-chain.pem")
        with open(chain, "w") as out:
            for p in (crt, ca_crt):
                with open(p) as f:
                    out.write(f.read())
        return crt, key, chain


def _client(self, ca_crt, name):
    """A client certificate CN=@name (clientAuth) signed by @ca_crt.
    Returns (cert, key)."""
    ca = os.path.splitext(os.path.basename(ca_crt))[0]
    self._ossl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
               "-keyout", "%s.key" % name, "-out", "%s.csr" % name, "-subj", "/CN=%s" % name)
    with open(os.path.join(self.tmp, "%s.ext" % name), "w") as f:
        f.write("extendedKeyUsage = clientAuth\nbasicConstraints = critical,CA:FALSE\n")
    self._ossl("x509", "-req", "-in", "%s.csr" % name, "-CA", ca_crt, "-CAkey", ca + ".key",
               "-CAcreateserial", "-out", "%s.crt" % name, "-days", "2", "-extfile", "%s.ext" % name)
    return os.path.join(self.tmp, name + ".crt"), os.path.join(self.tmp, name + ".key")


Certs.client = _client


class Kamailio:
    """Kamailio in namespace @ns (None: this one), TLS on @ip:@tls_port
    with @crt/@key (a chain file works too: Kamailio sends what it holds).
    @cfg: a whole configuration of the caller's (cfg_head() and its own
    routes, kamailio_call.py) instead of kamailio_cfg(), which alone uses
    @plain, @domain and @password. @shm_mb, @pkg_mb: its shared and
    private memory (-m, -M)."""

    def __init__(self, lab, ns, tmp, ip, crt, key, plain=False, domain="kamailio.test", password=None,
                 mtls_ca=None, tls_port=TLS_PORT, cfg=None, shm_mb=256, pkg_mb=16):
        self.ns, self.ip, self.port = ns, ip, tls_port
        self.cfg = os.path.join(tmp, "kamailio.cfg")
        with open(self.cfg, "w") as f:
            f.write(cfg or kamailio_cfg(tmp, ip, plain, domain, password, mtls_ca, tls_port))
        with open(os.path.join(tmp, "kamailio-tls.cfg"), "w") as f:
            f.write(tls_cfg(key, crt, ip, mtls_ca))
        self.rundir = os.path.join(tmp, "kamailio-run")
        os.makedirs(self.rundir, exist_ok=True)
        self.log_path = os.path.join(tmp, "kamailio.log")
        p = L.sh(KAMAILIO, "-c", "-f", self.cfg, ns=ns, check_rc=False, quiet=True)
        if p.returncode != 0:
            raise Fail("kamailio -c refuses the configuration: %s" % (p.stdout + p.stderr)[-2000:])
        self.log = open(self.log_path, "w")
        # -DD: no daemon (children still fork), -E: log to stderr; by
        # default shared memory for a few thousand contacts and TLS
        # connections.
        self.proc = lab.spawn(ns, [KAMAILIO, "-DD", "-E", "-f", self.cfg, "-Y", self.rundir,
                                   "-P", os.path.join(self.rundir, "kamailio.pid"), "-m", str(shm_mb),
                                   "-M", str(pkg_mb)],
                              stdout=self.log, stderr=subprocess.STDOUT)
        lab.undo.append(self.stop)

    def wait_ready(self, timeout=20.0):
        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise Fail("kamailio exited (%d): %s" % (self.proc.returncode, self.tail()))
            if self.ns is None:
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            else:
                s = ns_socket(self.ns, socket.AF_INET, socket.SOCK_STREAM)
            try:
                s.settimeout(1)
                s.connect((self.ip, self.port))
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise Fail("kamailio does not listen on %s:%d: %s" % (self.ip, self.port, self.tail()))
                time.sleep(0.1)
            finally:
                s.close()

    def version(self):
        return subprocess.run([KAMAILIO, "-v"], capture_output=True, text=True).stdout.split()[2]

    def text(self):
        self.log.flush()
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def tail(self, n=40):
        return "\n".join(self.text().splitlines()[-n:])

    def stop(self):
        stop_process(self.proc)
        if not self.log.closed:
            self.log.close()
        return self.proc.returncode
