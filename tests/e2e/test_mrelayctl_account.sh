#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# mrelayctl account add|list|passwd|revoke and mrelayctl cdr on temporary
# files: HA1s in the database checked against the passwords (MD5 and
# SHA-256), passwords never in output nor in the file, password files open
# to group/others refused, stdin passwords, duplicates, unknown and invalid
# names, another realm, paths from mrelay-cp's configuration (--cp-config),
# and revoke telling mrelay-cp: a small Python server plays its admin socket
# (the request line it got is checked), absent, or refusing. Exit statuses:
# 0 done, 1 usage or refused (nothing changed), 2 file or mrelay-cp unusable.
#
# Host changes: none. Everything lives in one mktemp -d directory under /tmp,
# removed on exit. Needs bash, python3 (with its sqlite3 module).
set -euo pipefail

CTL=${MRELAYCTL:?set MRELAYCTL to the mrelayctl binary}
PY=$(python3 -c 'import sys; print(sys.executable)')
TMP=$(mktemp -d /tmp/mrelay-e2e-account.XXXXXX)
SERVER_PID=
cleanup() {
	if [[ -n $SERVER_PID ]]; then
		kill "$SERVER_PID" 2>/dev/null || true
		wait "$SERVER_PID" 2>/dev/null || true
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT

DB=$TMP/accounts.db
DOMAIN=mrelay.test
PW1='correct horse battery staple'
PW2='Tr0ub4dor&3 "quoted" \back'
OUT=
ERR=
passed=0
failed=0

fail() {
	echo "FAIL: $*" >&2
	failed=$((failed + 1))
}

ok() { passed=$((passed + 1)); }

# run STATUS CMD...: run CMD, expect exit STATUS; stdout/stderr in $OUT/$ERR.
run() {
	local want=$1 got=0
	shift
	"$@" >"$TMP/out" 2>"$TMP/err" </dev/null || got=$?
	OUT=$(<"$TMP/out")
	ERR=$(<"$TMP/err")
	if [[ $got -ne $want ]]; then
		fail "'$*' exited $got, expected $want; stderr: $ERR"
		return 0
	fi
	ok
}

# run_in STATUS INPUT CMD...: run with INPUT on standard input.
run_in() {
	local want=$1 input=$2 got=0
	shift 2
	"$@" >"$TMP/out" 2>"$TMP/err" <<<"$input" || got=$?
	OUT=$(<"$TMP/out")
	ERR=$(<"$TMP/err")
	if [[ $got -ne $want ]]; then
		fail "'$*' (stdin) exited $got, expected $want; stderr: $ERR"
		return 0
	fi
	ok
}

has() { # has WHAT TEXT NEEDLE
	if [[ $2 != *"$3"* ]]; then fail "$1 lacks '$3': $2"; else ok; fi
}

lacks() { # lacks WHAT TEXT NEEDLE
	if [[ $2 == *"$3"* ]]; then fail "$1 shows '$3'"; else ok; fi
}

acct() { "$CTL" account "$@" --accounts "$DB" --domain "$DOMAIN"; }

# ha1_ok NAME PASSWORD: the stored HA1s are those of PASSWORD in DOMAIN.
ha1_ok() {
	if "$PY" - "$DB" "$1" "$DOMAIN" "$2" <<'PYEOF'; then ok; else fail "HA1 of $1"; fi
import hashlib, sqlite3, sys
db, name, realm, pw = sys.argv[1:]
row = sqlite3.connect(db).execute(
    "SELECT ha1_md5, ha1_sha256 FROM accounts WHERE name = ?", (name,)).fetchone()
a1 = f"{name}:{realm}:{pw}".encode()
sys.exit(0 if row == (hashlib.md5(a1).hexdigest(), hashlib.sha256(a1).hexdigest()) else 1)
PYEOF
}

names() { "$PY" -c 'import sqlite3, sys; print(" ".join(r[0] for r in sqlite3.connect(sys.argv[1]).execute("SELECT name FROM accounts ORDER BY name")))' "$DB"; }

check() { # check WHAT GOT WANT
	if [[ $2 != "$3" ]]; then fail "$1: got '$2', expected '$3'"; else ok; fi
}

# --- add, list, passwd --------------------------------------------------------
printf '%s\nignored second line\n' "$PW1" >"$TMP/pw1"
chmod 600 "$TMP/pw1"
printf '%s\r\n' "$PW2" >"$TMP/pw2"             # CRLF: the CR is not part of it
chmod 400 "$TMP/pw2"

run 0 acct add alice --password-file "$TMP/pw1"
has stdout "$OUT" "account alice added"
ha1_ok alice "$PW1"
mode=$(stat -c %a "$DB")
check "database mode" "$mode" 600
run_in 0 "$PW2" acct add room-4.2 --password-file -
ha1_ok room-4.2 "$PW2"
run 0 acct add bob --password-file "$TMP/pw2"
ha1_ok bob "$PW2"
check "names" "$(names)" "alice bob room-4.2"

run 0 acct list
has "list" "$OUT" "NAME"
if [[ $(grep -cE '^(alice|bob|room-4\.2) +[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z [0-9]{4}-' <<<"$OUT") -ne 3 ]]; then
	fail "list lines: $OUT"
else
	ok
fi
run 0 acct list --json
check "list --json" "$("$PY" -c 'import json, sys; print(" ".join(a["name"] for a in json.load(sys.stdin)["accounts"]))' <<<"$OUT")" "alice bob room-4.2"

run 0 acct passwd alice --password-file "$TMP/pw2"
has stdout "$OUT" "password changed"
ha1_ok alice "$PW2"

# Passwords never in any output, nor in the file's bytes.
for f in "$DB" "$TMP/out" "$TMP/err"; do
	if grep -qaF -e "$PW1" -e "correct horse" "$f"; then fail "password in $f"; else ok; fi
done

# --- refused: nothing changed -----------------------------------------------------
cp "$DB" "$TMP/before.db"
run 1 acct add alice --password-file "$TMP/pw1"
has stderr "$ERR" "'alice' already exists"
ha1_ok alice "$PW2"
run 1 acct passwd nobody --password-file "$TMP/pw1"
has stderr "$ERR" "no account 'nobody'"
run 1 acct revoke nobody
has stderr "$ERR" "no account 'nobody'"
run 1 acct add 'bad name' --password-file "$TMP/pw1"
has stderr "$ERR" "not a valid name"
run 1 acct add 'al@ce' --password-file "$TMP/pw1"
run 1 acct add carol
has stderr "$ERR" "--password-file FILE is required"
run 1 acct add carol --password-file "$TMP/missing"
has stderr "$ERR" "No such file"
cp "$TMP/pw1" "$TMP/pw-open"
chmod 644 "$TMP/pw-open"
run 1 acct add carol --password-file "$TMP/pw-open"
has stderr "$ERR" "open to group or others (mode 0644)"
chmod 640 "$TMP/pw-open"
run 1 acct add carol --password-file "$TMP/pw-open"
has stderr "$ERR" "mode 0640"
: >"$TMP/pw-empty"
chmod 600 "$TMP/pw-empty"
run 1 acct add carol --password-file "$TMP/pw-empty"
has stderr "$ERR" "is empty"
run_in 1 "" acct add carol --password-file -
run 1 acct add carol --password-file /dev/null
has stderr "$ERR" "not a regular file"
run 1 acct list extra
run 1 acct frob
run 1 "$CTL" account
check "names after refusals" "$(names)" "alice bob room-4.2"
# Another realm: every HA1 would be wrong.
run 2 "$CTL" account list --accounts "$DB" --domain other.test
has stderr "$ERR" "another SIP domain"
# Not a database; a missing directory.
echo "not a database at all, no, not even close......" >"$TMP/junk.db"
run 2 "$CTL" account list --accounts "$TMP/junk.db" --domain "$DOMAIN"
run 2 "$CTL" account list --accounts "$TMP/nodir/a.db" --domain "$DOMAIN"
# A refused password file leaves no new database behind.
run 1 "$CTL" account add x --password-file "$TMP/pw-open" --accounts "$TMP/new.db" --domain "$DOMAIN"
if [[ -e $TMP/new.db ]]; then fail "new.db created by a refused add"; else ok; fi

# --- revoke, and mrelay-cp's admin socket --------------------------------------------
SOCK=$TMP/cp.sock
# Paths and the admin socket from mrelay-cp's configuration.
cat >"$TMP/cp.conf" <<CONF
interfaces = ( { name = "wan"; addresses = [ "198.18.0.2" ]; } );
admin = { socket = "$SOCK"; };
sip = {
	domain = "$DOMAIN";
	accounts = "$DB";
	cdr = { path = "$TMP/cdr.db"; };
	listen = ( { address = "127.0.0.1:5061"; cert = "/x/cert.pem"; key = "/x/key.pem"; } );
};
CONF
cfg() { "$CTL" "$@"; }

# No mrelay-cp: revoked in the file, and said so.
run 0 cfg account revoke bob --cp-config "$TMP/cp.conf"
has stdout "$OUT" "account bob revoked"
has stdout "$OUT" "mrelay-cp is not running"
check "names after revoke" "$(names)" "alice room-4.2"

# A fake mrelay-cp: answers one request, records the line.
start_server() { # start_server REPLY
	rm -f "$SOCK" "$TMP/request"
	"$PY" - "$SOCK" "$TMP/request" "$1" <<'PYEOF' &
import socket, sys
path, log, reply = sys.argv[1:]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path)
s.listen(1)
c, _ = s.accept()
line = c.makefile("rb").readline()
open(log, "wb").write(line)
c.sendall(reply.encode().decode("unicode_escape").encode())
c.close()
PYEOF
	SERVER_PID=$!
	for _ in $(seq 100); do
		[[ -S $SOCK ]] && return 0
		sleep 0.05
	done
	fail "fake admin socket did not come up"
}

run 0 acct add dave --password-file "$TMP/pw1"
start_server 'ok\nended 2 calls\n.\n'
run 0 cfg account revoke dave --cp-config "$TMP/cp.conf"
wait "$SERVER_PID" || true
SERVER_PID=
has stdout "$OUT" "ended 2 calls"
check "request line" "$(<"$TMP/request")" "sip-revoke dave"
check "names after revoke" "$(names)" "alice room-4.2"

# -s wins over the configuration's socket.
run 0 acct add erin --password-file "$TMP/pw1"
mv "$TMP/cp.conf" "$TMP/cp2.conf"
sed "s|$SOCK|$TMP/elsewhere.sock|" "$TMP/cp2.conf" >"$TMP/cp.conf"
start_server 'ok\nended 0 calls\n.\n'
run 0 cfg -s "$SOCK" account revoke erin --cp-config "$TMP/cp.conf"
wait "$SERVER_PID" || true
SERVER_PID=
has stdout "$OUT" "ended 0 calls"
mv "$TMP/cp2.conf" "$TMP/cp.conf"

# mrelay-cp refuses (e.g. no SIP front-end): revoked in the file, exit 2.
run 0 acct add frank --password-file "$TMP/pw1"
start_server 'error: unknown command\n.\n'
run 2 cfg account revoke frank --cp-config "$TMP/cp.conf"
wait "$SERVER_PID" || true
SERVER_PID=
has stderr "$ERR" "unknown command"
has stderr "$ERR" "gone from the database"
check "names after refused sip-revoke" "$(names)" "alice room-4.2"

# Configuration problems.
run 2 cfg account list --cp-config "$TMP/none.conf"
printf 'interfaces = ( { name = "wan"; addresses = [ "198.18.0.2" ]; } );\n' >"$TMP/nosip.conf"
run 1 cfg account list --cp-config "$TMP/nosip.conf"
has stderr "$ERR" "no \"sip\" group"
printf 'interfaces = ( );\n' >"$TMP/bad.conf"
run 1 cfg account list --cp-config "$TMP/bad.conf"
has stderr "$ERR" "bad.conf:1"
# Not in a batch (its standard input is the commands).
run_in 1 "account list --accounts $DB --domain $DOMAIN" "$CTL" batch

# --- cdr ----------------------------------------------------------------------------
run 2 cfg cdr --cp-config "$TMP/cp.conf"
has stderr "$ERR" "No such file"
"$PY" - "$TMP/cdr.db" <<'PYEOF'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.executescript("""
CREATE TABLE cdr(id INTEGER PRIMARY KEY, call_id TEXT NOT NULL, caller TEXT NOT NULL,
 callee TEXT NOT NULL, start_s INTEGER NOT NULL, answer_s INTEGER NOT NULL,
 end_s INTEGER NOT NULL, duration_s INTEGER NOT NULL, sip_status INTEGER NOT NULL,
 end_reason TEXT NOT NULL, pkts_ab INTEGER NOT NULL, bytes_ab INTEGER NOT NULL,
 pkts_ba INTEGER NOT NULL, bytes_ba INTEGER NOT NULL, pkts_dropped INTEGER NOT NULL);
CREATE INDEX cdr_end ON cdr(end_s);
PRAGMA user_version = 1;
""")
db.execute("INSERT INTO cdr VALUES(NULL, 'old@x', 'alice', 'bob', 1000, 1001, 1100, 99, 200, 'caller-bye', 1, 2, 3, 4, 0)")
db.execute("INSERT INTO cdr VALUES(NULL, 'c\"1@x', 'alice', 'pstn1:0049301', 1704067200, 0, 1704067210, 0, 486, 'rejected', 0, 0, 0, 0, 0)")
db.commit()
PYEOF
chmod 600 "$TMP/cdr.db"
run 0 cfg cdr --cp-config "$TMP/cp.conf"
has cdr "$OUT" "1970-01-01T00:16:40Z 1970-01-01T00:18:20Z 200 caller-bye 99s alice -> bob call-id old@x"
has cdr "$OUT" "2024-01-01T00:00:00Z 2024-01-01T00:00:10Z 486 rejected"
run 0 cfg cdr --cdr "$TMP/cdr.db" --since 2023-12-31 --json
check "cdr --since --json" "$("$PY" -c 'import json, sys; d = json.load(sys.stdin)["cdrs"]; print(len(d), d[0]["call_id"], d[0]["answer"], d[0]["sip_status"])' <<<"$OUT")" '1 c"1@x None 486'
run 0 cfg cdr --cdr "$TMP/cdr.db" --since 2024-01-01T00:00:11Z
check "cdr --since (time)" "$OUT" ""
run 1 cfg cdr --cdr "$TMP/cdr.db" --since yesterday
run 1 cfg cdr extra --cdr "$TMP/cdr.db"
run 2 cfg cdr --cdr "$TMP/junk.db"

echo "mrelayctl account/cdr: $passed passed, $failed failed"
[[ $failed -eq 0 ]]
