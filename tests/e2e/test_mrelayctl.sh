#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# mrelayctl against temporary regions: add/list/set/pair/del, SRTP keys, stats,
# events, sync, JSON validity, and every refused request leaving the region
# exactly as it was. A small Python helper plays the dataplane's side of the
# region (pushing events, answering a sync, reading key bytes) through mmap.
#
# Host changes: none. Everything lives in one mktemp -d directory under /tmp,
# removed on exit. Needs bash, python3.
set -euo pipefail

CTL=${MRELAYCTL:?set MRELAYCTL to the mrelayctl binary}
# The interpreter itself, not a version-manager shim in front of it: this
# script starts it a few hundred times.
PY=$(python3 -c 'import sys; print(sys.executable)')
TMP=$(mktemp -d /tmp/mrelay-e2e-ctl.XXXXXX)
HELPER_PID=
cleanup() {
	if [[ -n $HELPER_PID ]]; then
		kill "$HELPER_PID" 2>/dev/null || true
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT

REG=$TMP/region
OUT=
ERR=
passed=0
failed=0

ctl() { "$CTL" -r "$REG" "$@"; }

fail() {
	echo "FAIL: $*" >&2
	failed=$((failed + 1))
}

# run STATUS CMD...: run CMD, expect exit STATUS; stdout/stderr in $OUT/$ERR.
run() {
	local want=$1 got=0
	shift
	"$@" >"$TMP/out" 2>"$TMP/err" || got=$?
	OUT=$(<"$TMP/out")
	ERR=$(<"$TMP/err")
	if [[ $got -ne $want ]]; then
		fail "'$*' exited $got, expected $want; stderr: $ERR"
		return 0
	fi
	passed=$((passed + 1))
}

# err_has TEXT: the last command's stderr contains TEXT.
err_has() {
	if [[ $ERR != *"$1"* ]]; then
		fail "stderr lacks '$1': $ERR"
	else
		passed=$((passed + 1))
	fi
}

# json_ok TEXT: valid JSON according to python3 -m json.tool.
json_ok() {
	if ! "$PY" -m json.tool >/dev/null 2>&1 <<<"$1"; then
		fail "invalid JSON: $1"
	else
		passed=$((passed + 1))
	fi
}

# jget JSON EXPR: evaluate EXPR on the parsed JSON (as d), print it as JSON.
jget() {
	"$PY" -c 'import json, sys; d = json.loads(sys.argv[1]); print(json.dumps(eval(sys.argv[2])))' "$1" "$2"
}

# check NAME GOT WANT
check() {
	if [[ $2 != "$3" ]]; then
		fail "$1: got '$2', expected '$3'"
	else
		passed=$((passed + 1))
	fi
}

# leg JSON-path: a field of a leg in `leg list --json`, by slot.
legf() {
	jget "$(ctl leg list --json)" "[l for l in d['legs'] if l['slot'] == $1][0]['$2']"
}

snapshot() {
	{
		ctl leg list --json
		ctl region info --json
	} >"$TMP/$1"
}

# refused STATUS MESSAGE CMD...: CMD fails with STATUS, says MESSAGE, and
# the region (legs, command ring, uid allocator) is unchanged.
refused() {
	local want=$1 msg=$2
	shift 2
	snapshot before
	run "$want" "$@"
	err_has "$msg"
	if [[ $ERR != mrelayctl:* ]]; then
		fail "error not prefixed 'mrelayctl:': $ERR"
	fi
	snapshot after
	if ! cmp -s "$TMP/before" "$TMP/after"; then
		fail "'$*' changed the region:"
		diff "$TMP/before" "$TMP/after" >&2 || true
	else
		passed=$((passed + 1))
	fi
}

cat >"$TMP/dp.py" <<'EOF'
"""The dataplane's side of the region, for tests (layout: include/mrelay/)."""
import mmap, os, struct, sys, time

path, cmd = sys.argv[1], sys.argv[2]
f = open(path, "r+b")
m = mmap.mmap(f.fileno(), 0)
off_cmd, off_ev = struct.unpack_from("<QQ", m, 64)
HEAD, TAIL, ENTRIES = 64, 128, 192

def now_ms():
    return int(time.monotonic() * 1000)

def push_event(typ, slot=0, cookie=0, value=0, addr=None, comp=0):
    size, esize = struct.unpack_from("<II", m, off_ev)
    head = struct.unpack_from("<I", m, off_ev + HEAD)[0]
    ip, port, fam = bytes(16), 0, 0
    if addr:
        ip, port, fam = bytes(addr[0]) + bytes(16 - len(addr[0])), addr[1], 4
    ev = struct.pack("<HBBIIIQQ16s2sBB12x", typ, comp, 0, slot, 1, cookie, 7, value,
                     ip, port.to_bytes(2, "big"), fam, 0)
    assert len(ev) == esize == 64
    o = off_ev + ENTRIES + (head & (size - 1)) * esize
    m[o:o + esize] = ev
    struct.pack_into("<I", m, off_ev + HEAD, (head + 1) & 0xffffffff)

if cmd == "set-abi":
    struct.pack_into("<I", m, 8, int(sys.argv[3]))
elif cmd == "tear":
    # A control-side writer that died mid-write: the slot's seq left odd.
    off_slots = struct.unpack_from("<Q", m, 32)[0]
    o = off_slots + int(sys.argv[3]) * 512
    seq = struct.unpack_from("<I", m, o)[0]
    assert seq % 2 == 0
    struct.pack_into("<I", m, o, seq + 1)
elif cmd == "key-gen":
    # One struct mr_key_gen of a slot as hex (leg.h: crypto_in at 128,
    # crypto_out at 264; each is active + pad (8 bytes), then gen[2] of 64).
    off_slots = struct.unpack_from("<Q", m, 32)[0]
    slot, d, g = int(sys.argv[3]), sys.argv[4], int(sys.argv[5])
    o = off_slots + slot * 512 + (128 if d == "in" else 264) + 8 + g * 64
    print(m[o:o + 64].hex())
elif cmd == "push-latched":
    push_event(1, slot=int(sys.argv[3]), addr=([198, 18, 0, 9], 4000))
elif cmd == "fake-dp":
    # Announce a running dataplane, consume commands, answer one sync.
    struct.pack_into("<IIQ", m, 192, os.getpid(), 2, now_ms())
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        struct.pack_into("<Q", m, 200, now_ms())
        size, esize = struct.unpack_from("<II", m, off_cmd)
        head = struct.unpack_from("<I", m, off_cmd + HEAD)[0]
        tail = struct.unpack_from("<I", m, off_cmd + TAIL)[0]
        while tail != head:
            o = off_cmd + ENTRIES + (tail & (size - 1)) * esize
            op, _, slot, gen, cookie = struct.unpack_from("<HHIII", m, o)
            tail = (tail + 1) & 0xffffffff
            struct.pack_into("<I", m, off_cmd + TAIL, tail)
            if op == 3:
                push_event(2, slot=5)           # an idle event first
                push_event(3, cookie=cookie)    # then the answer
                struct.pack_into("<I", m, 196, 0)   # and stop: state down
                sys.exit(0)
        time.sleep(0.002)
    sys.exit(1)
EOF

dp() { "$PY" "$TMP/dp.py" "$@"; }

# --- usage ---------------------------------------------------------------------
run 0 "$CTL" --help
[[ $OUT == Usage:* ]] || fail "--help does not print usage on stdout"
run 0 "$CTL" -h
run 1 "$CTL"
run 1 "$CTL" frobnicate
err_has "unknown command 'frobnicate'"
run 1 "$CTL" --bogus
run 1 "$CTL" -r
run 1 "$CTL" leg
run 1 "$CTL" leg frob
run 1 "$CTL" region

# --- absent region -------------------------------------------------------------
run 2 ctl leg list
err_has "does not exist"
run 2 ctl region info
run 2 ctl stats
run 2 ctl events
run 2 ctl sync
run 2 ctl leg del 0
# Requests that would fail do not create the region either.
run 1 ctl leg add --local 198.18.0.1:10000
err_has "plain RTP requires --pstn: media encryption is mandatory otherwise"
run 1 ctl leg add --local 198.18.0.1:10000 --pstn --egress 3
err_has "not an active leg"
run 1 ctl leg add --local 198.18.0.1:10000 --pstn --slot 65536
err_has "out of range"
[[ ! -e $REG ]] || fail "a refused leg add created the region"

# --- region create / info ----------------------------------------------------------
run 1 ctl region create --max-legs 0
run 1 ctl region create --max-legs 4194305
run 1 ctl region create --max-workers 65
run 1 ctl region create --max-legs abc
run 1 ctl region create extra
[[ ! -e $REG ]] || fail "a refused region create created the region"
run 0 ctl region create --max-legs 64 --max-workers 2
run 1 ctl region create
err_has "already exists"
run 0 ctl region info
run 0 ctl region info --json
json_ok "$OUT"
INFO=$OUT
check "max_legs" "$(jget "$INFO" "d['max_legs']")" 64
check "max_workers" "$(jget "$INFO" "d['max_workers']")" 2
check "abi" "$(jget "$INFO" "d['abi_version']")" 1
check "dp alive" "$(jget "$INFO" "d['dataplane']['alive']")" false
check "file mode" "$(stat -c %a "$REG")" 600
run 0 ctl leg list --json
json_ok "$OUT"
check "empty list" "$(jget "$OUT" "d['legs']")" "[]"

# --- leg add ---------------------------------------------------------------------
refused 1 "plain RTP requires --pstn" ctl leg add --local 198.18.0.1:10000
refused 1 "plain RTP requires --pstn" ctl leg add --local 198.18.0.1:10000 --rtcp-mux --muted

run 0 ctl leg add --local 198.18.0.1:10000 --pstn
check "first slot" "$OUT" 0
run 0 ctl leg add --local '[2001:db8::1]:20000' --rtcp-mux --pstn --peer '[2001:db8::2]:30000' \
	--peer-rtcp '[2001:db8::2]:30001' --latch strict --dscp 46 --call-tag 18446744073709551615 \
	--latch-window-ms 500 --relatch-idle-ms 3000 --idle-timeout-ms 60000
check "second slot" "$OUT" 1
run 0 ctl leg add --local 198.18.0.2:10000 --rtcp-port 10500 --pstn --slot 7 --egress 0 --muted
check "chosen slot" "$OUT" 7
run 0 ctl leg add --local 198.18.0.1:10002 --pstn --peer 198.18.1.1:5004
check "lowest free slot" "$OUT" 2

run 0 ctl leg list
[[ $OUT == *"198.18.0.1:10000"*"[2001:db8::1]:20000"* ]] || fail "text list: $OUT"
run 0 ctl leg list --json
json_ok "$OUT"
check "slots" "$(jget "$OUT" "[l['slot'] for l in d['legs']]")" "[0, 1, 2, 7]"
check "0 rtcp" "$(legf 0 rtcp_port)" 10001
check "0 latch" "$(legf 0 latch)" '"first"'
check "0 egress" "$(legf 0 egress)" null
check "0 peer" "$(legf 0 peer)" null
check "0 flags" "$(legf 0 flags)" '["pstn"]'
check "0 encrypted" "$(legf 0 encrypted)" false
check "0 latched" "$(legf 0 latched_rtp)" null
check "0 rx" "$(legf 0 rx_pkts)" 0
check "1 local" "$(legf 1 local)" '"[2001:db8::1]:20000"'
check "1 rtcp" "$(legf 1 rtcp_port)" null
check "1 mux" "$(legf 1 rtcp_mux)" true
check "1 peer" "$(legf 1 peer)" '"[2001:db8::2]:30000"'
check "1 peer rtcp" "$(legf 1 peer_rtcp)" '"[2001:db8::2]:30001"'
check "1 latch" "$(legf 1 latch)" '"strict"'
check "1 dscp" "$(legf 1 dscp)" 46
check "1 call tag" "$(legf 1 call_tag)" 18446744073709551615
check "1 window" "$(legf 1 latch_window_ms)" 500
check "1 relatch" "$(legf 1 relatch_idle_ms)" 3000
check "1 idle" "$(legf 1 idle_timeout_ms)" 60000
check "1 flags" "$(legf 1 flags)" '["rtcp-mux", "pstn"]'
check "7 rtcp" "$(legf 7 rtcp_port)" 10500
check "7 egress" "$(legf 7 egress)" 0
check "7 flags" "$(legf 7 flags)" '["muted", "pstn"]'
check "2 peer" "$(legf 2 peer)" '"198.18.1.1:5004"'
check "uids" "$(jget "$(ctl leg list --json)" "[l['leg_uid'] for l in d['legs']]")" "[1, 2, 4, 3]"
check "cmds queued" "$(jget "$(ctl region info --json)" "d['cmd_ring']['used']")" 4

# Every bad input is refused, says why, and changes nothing.
P=(--pstn)
refused 1 "already used by the leg in slot 0" ctl leg add --local 198.18.0.1:10000 "${P[@]}"
refused 1 "port 10001 is already used" ctl leg add --local 198.18.0.1:10001 "${P[@]}"
refused 1 "port 10000 is already used" ctl leg add --local 198.18.0.1:9999 "${P[@]}"
refused 1 "port 10001 is already used" ctl leg add --local 198.18.0.1:20000 --rtcp-port 10001 "${P[@]}"
refused 1 "already used by the leg in slot 1" ctl leg add --local '[2001:db8::1]:20000' --rtcp-mux "${P[@]}"
refused 1 "already used by the leg in slot 1" ctl leg add --local '[2001:db8:0::1]:19999' "${P[@]}"
refused 1 "IPv6 addresses are written [addr]:port" ctl leg add --local 2001:db8::1:20000 "${P[@]}"
refused 1 "not an IPv4 or [IPv6] address" ctl leg add --local 198.18.0.300:10000 "${P[@]}"
refused 1 "not an IPv4 or [IPv6] address" ctl leg add --local host.example:10000 "${P[@]}"
refused 1 "not an IPv4 or [IPv6] address" ctl leg add --local '[198.18.0.1]:10000' "${P[@]}"
refused 1 "is not [IPv6]:port" ctl leg add --local '[2001:db8::9]' "${P[@]}"
refused 1 "has no port" ctl leg add --local 198.18.0.1 "${P[@]}"
refused 1 "out of range 1..65535" ctl leg add --local 198.18.0.1:0 "${P[@]}"
refused 1 "out of range 1..65535" ctl leg add --local 198.18.0.1:65536 "${P[@]}"
refused 1 "is not a number" ctl leg add --local 198.18.0.1:-5 "${P[@]}"
refused 1 "is not a number" ctl leg add --local 198.18.0.1:12ab "${P[@]}"
refused 1 "IPv4-mapped" ctl leg add --local '[::ffff:198.18.0.1]:30000' "${P[@]}"
refused 1 "not a unicast address" ctl leg add --local 0.0.0.0:30000 "${P[@]}"
refused 1 "not a unicast address" ctl leg add --local 224.0.0.1:30000 "${P[@]}"
refused 1 "not a unicast address" ctl leg add --local '[ff02::1]:30000' "${P[@]}"
refused 1 "no room for RTCP" ctl leg add --local 198.18.0.1:65535 "${P[@]}"
refused 1 "equals the RTP port" ctl leg add --local 198.18.0.1:30000 --rtcp-port 30000 "${P[@]}"
refused 1 "exclude each other" ctl leg add --local 198.18.0.1:30000 --rtcp-port 30001 --rtcp-mux "${P[@]}"
refused 1 "exclude each other" ctl leg add --local 198.18.0.1:30000 --muted --no-muted "${P[@]}"
refused 1 "out of range 1..65535" ctl leg add --local 198.18.0.1:30000 --rtcp-port 0 "${P[@]}"
refused 1 "address family differs" ctl leg add --local 198.18.0.1:30000 --peer '[2001:db8::2]:4000' "${P[@]}"
refused 1 "address family differs" ctl leg add --local 198.18.0.1:30000 --peer-rtcp '[2001:db8::2]:4001' "${P[@]}"
refused 1 "not a unicast address" ctl leg add --local 198.18.0.1:30000 --peer 0.0.0.0:4000 "${P[@]}"
refused 1 "slot 6 is not an active leg" ctl leg add --local 198.18.0.1:30000 --egress 6 "${P[@]}"
refused 1 "cannot feed itself (slot 3)" ctl leg add --local 198.18.0.1:30000 --egress 3 "${P[@]}"
refused 1 "out of range (region has 64 slots)" ctl leg add --local 198.18.0.1:30000 --egress 64 "${P[@]}"
refused 1 "is not a number" ctl leg add --local 198.18.0.1:30000 --egress -1 "${P[@]}"
refused 1 "cannot feed itself" ctl leg add --local 198.18.0.1:30000 --slot 9 --egress 9 "${P[@]}"
refused 1 "slot 7 is in use" ctl leg add --local 198.18.0.1:30000 --slot 7 "${P[@]}"
refused 1 "out of range (region has 64 slots)" ctl leg add --local 198.18.0.1:30000 --slot 64 "${P[@]}"
refused 1 "is not first, strict or auth" ctl leg add --local 198.18.0.1:30000 --latch maybe "${P[@]}"
refused 1 "no packet could ever authenticate" ctl leg add --local 198.18.0.1:30000 --latch auth "${P[@]}"
refused 1 "out of range 0..63" ctl leg add --local 198.18.0.1:30000 --dscp 64 "${P[@]}"
refused 1 "out of range" ctl leg add --local 198.18.0.1:30000 --call-tag 18446744073709551616 "${P[@]}"
refused 1 "is not a number" ctl leg add --local 198.18.0.1:30000 --idle-timeout-ms ' 5' "${P[@]}"
refused 1 "out of range" ctl leg add --local 198.18.0.1:30000 --latch-window-ms 4294967296 "${P[@]}"
refused 1 "needs a value" ctl leg add --local 198.18.0.1:30000 "${P[@]}" --peer
refused 1 "unknown option '--colour'" ctl leg add --local 198.18.0.1:30000 --colour blue "${P[@]}"
refused 1 "--local is required" ctl leg add --pstn
refused 1 "unexpected argument 'extra'" ctl leg add --local 198.18.0.1:30000 extra "${P[@]}"

# --- leg set -----------------------------------------------------------------------
G0=$(legf 0 generation)
run 0 ctl leg set 0 --muted --dscp 34 --call-tag 99 --peer 198.18.5.5:7000
check "set flags" "$(legf 0 flags)" '["muted", "pstn"]'
check "set dscp" "$(legf 0 dscp)" 34
check "set tag" "$(legf 0 call_tag)" 99
check "set peer" "$(legf 0 peer)" '"198.18.5.5:7000"'
check "set kept local" "$(legf 0 local)" '"198.18.0.1:10000"'
check "set kept rtcp" "$(legf 0 rtcp_port)" 10001
check "set generation" "$(legf 0 generation)" $((G0 + 1))
check "set keeps uid" "$(legf 0 leg_uid)" 1
run 0 ctl leg set 0 --no-muted --peer none --latch strict
check "unmute" "$(legf 0 flags)" '["pstn"]'
check "peer cleared" "$(legf 0 peer)" null
check "latch" "$(legf 0 latch)" '"strict"'
run 0 ctl leg set 0 --local 198.18.0.1:12000
check "moved rtp" "$(legf 0 local)" '"198.18.0.1:12000"'
check "rtcp follows" "$(legf 0 rtcp_port)" 12001
run 0 ctl leg set 0 --rtcp-mux
check "mux" "$(legf 0 rtcp_mux)" true
run 0 ctl leg set 0 --rtcp-port 12010
check "unmux" "$(legf 0 rtcp_mux)" false
check "rtcp port" "$(legf 0 rtcp_port)" 12010
# The old ports are free again, the new ones taken.
run 0 ctl leg add --local 198.18.0.1:10000 --pstn
check "reuse" "$OUT" 3
run 0 ctl leg del 3

refused 1 "not an active leg" ctl leg set 5 --muted
refused 1 "out of range (region has 64 slots)" ctl leg set 64 --muted
refused 1 "nothing to change" ctl leg set 0
refused 1 "missing argument" ctl leg set --muted
refused 1 "--slot is not an option here" ctl leg set 0 --slot 3
refused 1 "plain RTP requires --pstn" ctl leg set 0 --no-pstn
refused 1 "already used by the leg in slot 2" ctl leg set 0 --local 198.18.0.1:10002
refused 1 "port 12010 is already used by the leg in slot 0" ctl leg set 2 --rtcp-port 12010
refused 1 "cannot feed itself" ctl leg set 0 --egress 0
refused 1 "not an active leg" ctl leg set 0 --egress 6
refused 1 "address family differs" ctl leg set 0 --peer '[2001:db8::2]:4000'
refused 1 "address family differs" ctl leg set 2 --local '[2001:db8::7]:4000'
refused 1 "no packet could ever authenticate" ctl leg set 0 --latch auth
refused 1 "no room for RTCP" ctl leg set 0 --local 198.18.0.1:65535
refused 1 "equals the RTP port" ctl leg set 0 --rtcp-port 12000

# --- leg pair ----------------------------------------------------------------------
run 0 ctl leg pair 0 1
check "pair a" "$(legf 0 egress)" 1
check "pair b" "$(legf 1 egress)" 0
refused 1 "paired with itself" ctl leg pair 0 0
refused 1 "slot 5 is not an active leg" ctl leg pair 0 5
refused 1 "slot 5 is not an active leg" ctl leg pair 5 0
refused 1 "missing argument" ctl leg pair 0
refused 1 "unexpected argument" ctl leg pair 0 1 2
refused 1 "is not a number" ctl leg pair 0 x

# --- stats ---------------------------------------------------------------------------
run 0 ctl stats
[[ $OUT == *"worker 1:"*"mgmt:"*"drops total:"* ]] || fail "stats text: $OUT"
run 0 ctl stats --json
json_ok "$OUT"
check "stats legs" "$(jget "$OUT" "[l['slot'] for l in d['legs']]")" "[0, 1, 2, 7]"
check "stats workers" "$(jget "$OUT" "len(d['workers'])")" 2
check "stats drops" "$(jget "$OUT" "d['drops_total']")" "{}"
run 0 ctl stats --json 7
json_ok "$OUT"
check "stats one" "$(jget "$OUT" "[l['slot'] for l in d['legs']]")" "[7]"
refused 1 "slot 5 is not an active leg" ctl stats 5
refused 1 "is not a number" ctl stats x
refused 1 "unexpected argument" ctl stats 1 2

# --- leg del -------------------------------------------------------------------------
refused 1 "slot 5 is not an active leg" ctl leg del 5
refused 1 "missing argument" ctl leg del
run 0 ctl leg del 0
run 0 ctl leg list --json
json_ok "$OUT"
check "after del" "$(jget "$OUT" "[l['slot'] for l in d['legs']]")" "[1, 2, 7]"
# Legs that fed the deleted one no longer do.
check "detached 1" "$(legf 1 egress)" null
check "detached 7" "$(legf 7 egress)" null
refused 1 "slot 0 is not an active leg" ctl leg del 0
run 0 ctl leg add --local 198.18.0.9:10000 --pstn
check "slot reused" "$OUT" 0
check "new uid" "$(legf 0 leg_uid)" 6

# --- events ----------------------------------------------------------------------------
run 0 ctl events --json
json_ok "$OUT"
check "no events" "$(jget "$OUT" "d")" "[]"
run 1 ctl events --count 0
dp "$REG" push-latched 2
dp "$REG" push-latched 7
run 0 ctl events --json --count 1
json_ok "$OUT"
check "event type" "$(jget "$OUT" "d[0]['type']")" '"latched"'
check "event slot" "$(jget "$OUT" "d[0]['slot']")" 2
check "event addr" "$(jget "$OUT" "d[0]['addr']")" '"198.18.0.9:4000"'
run 0 ctl events
check "event text" "$OUT" "latched slot=7 gen=1 uid=7 comp=rtp addr=198.18.0.9:4000"
run 0 ctl events --timeout-ms 50
check "drained" "$OUT" ""

# --- sync ------------------------------------------------------------------------------
run 2 ctl sync --timeout-ms 100
err_has "no dataplane is running"
dp "$REG" fake-dp &
HELPER_PID=$!
for _ in $(seq 100); do
	[[ $(jget "$(ctl region info --json)" "d['dataplane']['alive']") == true ]] && break
	sleep 0.05
done
run 0 ctl sync --timeout-ms 10000
check "sync passes other events on" "$OUT" "idle slot=5 gen=1 uid=7"
wait "$HELPER_PID" || fail "fake dataplane failed"
HELPER_PID=
run 0 ctl region info --json
check "cmd ring drained" "$(jget "$OUT" "d['cmd_ring']['used']")" 0
check "dp down" "$(jget "$OUT" "d['dataplane']['alive']")" false
run 2 ctl sync --timeout-ms 100

# --- a writer that died mid-write ---------------------------------------------------
dp "$REG" tear 7
run 0 ctl leg list --json
json_ok "$OUT"
err_has "slot 7 is being written or torn; skipped"
check "torn slot hidden" "$(jget "$OUT" "[l['slot'] for l in d['legs']]")" "[0, 1, 2]"
# The next writer repairs it: the slot is freed (wiped) and a delete queued.
run 0 ctl leg set 2 --dscp 8
err_has "repaired 1 torn slot left by a writer that died"
run 0 ctl leg list --json
[[ -z $ERR ]] || fail "list still warns after repair: $ERR"
check "repaired slot free" "$(jget "$OUT" "[l['slot'] for l in d['legs']]")" "[0, 1, 2]"
run 0 ctl leg add --local 198.18.0.2:10000 --rtcp-port 10500 --pstn --slot 7
check "repaired slot reusable" "$OUT" 7

# --- broken regions ------------------------------------------------------------------
cp "$REG" "$TMP/abi"
dp "$TMP/abi" set-abi 99
run 2 "$CTL" -r "$TMP/abi" leg list
err_has "region ABI version 99, expected 1"
run 2 "$CTL" -r "$TMP/abi" leg add --local 198.18.0.1:40000 --pstn
err_has "region ABI version 99, expected 1"
head -c 8192 /dev/urandom >"$TMP/junk"
run 2 "$CTL" -r "$TMP/junk" region info
err_has "not an mrelay region"
run 2 "$CTL" -r "$TMP/nodir/region" leg add --local 198.18.0.1:40000 --pstn
err_has "cannot open or create region"

# --- SRTP keys -------------------------------------------------------------------------
# A region of its own, so that the checks above and below keep their numbers.
REG=$TMP/keys
run 0 ctl region create --max-legs 16 --max-workers 1

# b64 N: N random bytes as base64, as `openssl rand -base64 N` prints them.
b64() { "$PY" -c 'import base64, os, sys; print(base64.b64encode(os.urandom(int(sys.argv[1]))).decode())' "$1"; }
# gen_hex SUITE KEY_LEN SALT_LEN BASE64 [MKI MKILEN]: the struct mr_key_gen
# mrelayctl should write, as hex (tag 0, MKI big-endian).
gen_hex() {
	"$PY" -c '
import base64, struct, sys
suite, kl, sl = (int(x) for x in sys.argv[1:4])
b = base64.b64decode(sys.argv[4], validate=True)
mki, ml = (int(sys.argv[5]), int(sys.argv[6])) if len(sys.argv) > 5 else (0, 0)
print(struct.pack("<BBBBI8s32s14s2x", suite, ml, kl, sl, 0, mki.to_bytes(ml, "big"),
                  b[:kl], b[kl:]).hex())' "$@"
}
ZERO_GEN=$(printf '0%.0s' {1..128})
# no_keys TEXT BASE64...: TEXT shows none of the keys, neither whole nor any
# part of them (12 chars of the base64, 6 bytes as hex in either case).
no_keys() {
	local k
	for k in "${@:2}"; do
		if ! "$PY" -c '
import base64, sys
text, k = sys.argv[1], sys.argv[2]
h, low = base64.b64decode(k).hex(), text.lower()
sys.exit(any(k[i:i + 12] in text for i in range(len(k) - 11)) or
         any(h[i:i + 12] in low for i in range(0, len(h) - 11, 2)))' "$1" "$k"; then
			fail "key material shown: $1"
		else
			passed=$((passed + 1))
		fi
	done
}

# One leg per suite: inbound without MKI, outbound with one of the suite's
# number of bytes. Region bytes are exactly what leg.h says.
SUITES=(AES_CM_128_HMAC_SHA1_80:1:16:14 AES_CM_128_HMAC_SHA1_32:2:16:14
	AES_256_CM_HMAC_SHA1_80:3:32:14 AES_256_CM_HMAC_SHA1_32:4:32:14
	AEAD_AES_128_GCM:5:16:12 AEAD_AES_256_GCM:6:32:12)
KEYS=()
KSLOTS=()
port=40000
for e in "${SUITES[@]}"; do
	IFS=: read -r name id kl sl <<<"$e"
	ki=$(b64 $((kl + sl)))
	ko=$(b64 $((kl + sl)))
	mki=$((id == 1 ? 200 : 0x0102 + id))
	KEYS+=("$ki" "$ko")
	run 0 ctl leg add --local 198.18.0.1:$port --in-key "$name:$ki" --out-key "0:$name:$ko:$mki:$id"
	no_keys "$OUT$ERR" "$ki" "$ko"
	s=$OUT
	KSLOTS+=("$s")
	check "$name in" "$(legf "$s" srtp_in)" "{\"gens\": [{\"suite\": \"$name\", \"mki_len\": 0}, null]}"
	check "$name out" "$(legf "$s" srtp_out)" \
		"{\"active\": 0, \"gens\": [{\"suite\": \"$name\", \"mki_len\": $id}, null]}"
	check "$name encrypted" "$(legf "$s" encrypted)" true
	check "$name needs no pstn" "$(legf "$s" flags)" "[]"
	check "$name in bytes" "$(dp "$REG" key-gen "$s" in 0)" "$(gen_hex "$id" "$kl" "$sl" "$ki")"
	check "$name out bytes" "$(dp "$REG" key-gen "$s" out 0)" \
		"$(gen_hex "$id" "$kl" "$sl" "$ko" "$mki" "$id")"
	check "$name in gen 1 empty" "$(dp "$REG" key-gen "$s" in 1)" "$ZERO_GEN"
	port=$((port + 2))
done
check "suite slots" "${KSLOTS[*]}" "0 1 2 3 4 5"
run 0 ctl leg list
SHOWN=$OUT
[[ $OUT == *"0:AES_CM_128_HMAC_SHA1_80 "*"0*:AES_CM_128_HMAC_SHA1_80/mki1"* ]] ||
	fail "text list lacks suites: $OUT"
[[ $OUT == *"0:AEAD_AES_256_GCM "*"0*:AEAD_AES_256_GCM/mki6"* ]] || fail "text list lacks suites: $OUT"
run 0 ctl leg list --json
json_ok "$OUT"
SHOWN+=$OUT
run 0 ctl stats --json
SHOWN+=$OUT
run 0 ctl region info
SHOWN+=$OUT
no_keys "$SHOWN" "${KEYS[@]}"

# Bad keys: refused, nothing changed, and the key never in the error.
K28=$(b64 28)
K29=$(b64 29)
K30=$(b64 30)
K44=$(b64 44)
K46=$(b64 46)
S80=AES_CM_128_HMAC_SHA1_80
L=(--local 198.18.0.2:40000 --out-key "$S80:$K30")
refused 1 "--in-key: key is 29 bytes, AES_CM_128_HMAC_SHA1_80 needs 30" ctl leg add "${L[@]}" --in-key "$S80:$K29"
no_keys "$ERR" "$K29" "$K30"
refused 1 "--in-key: key is 30 bytes, AES_256_CM_HMAC_SHA1_32 needs 46" ctl leg add "${L[@]}" --in-key "AES_256_CM_HMAC_SHA1_32:$K30"
refused 1 "--in-key: key is 46 bytes, AES_CM_128_HMAC_SHA1_32 needs 30" ctl leg add "${L[@]}" --in-key "AES_CM_128_HMAC_SHA1_32:$K46"
refused 1 "--in-key: key is 30 bytes, AEAD_AES_128_GCM needs 28" ctl leg add "${L[@]}" --in-key "AEAD_AES_128_GCM:$K30"
refused 1 "--in-key: key is 46 bytes, AEAD_AES_256_GCM needs 44" ctl leg add "${L[@]}" --in-key "AEAD_AES_256_GCM:$K46"
refused 1 "--out-key: key is 44 bytes, AES_256_CM_HMAC_SHA1_80 needs 46" ctl leg add --local 198.18.0.2:40000 --in-key "$S80:$K30" --out-key "AES_256_CM_HMAC_SHA1_80:$K44"
no_keys "$ERR" "$K44" "$K30"
refused 1 "the key is not base64" ctl leg add "${L[@]}" --in-key "$S80:${K30:0:20}!${K30:21}"
no_keys "$ERR" "$K30"
refused 1 "the key is not base64" ctl leg add "${L[@]}" --in-key "$S80:-${K30:1}"
refused 1 "the key is not base64" ctl leg add "${L[@]}" --in-key "$S80:${K30:0:20} ${K30:21}"
refused 1 "the key is not valid base64" ctl leg add "${L[@]}" --in-key "$S80:${K30}="
refused 1 "the key is not valid base64" ctl leg add "${L[@]}" --in-key "$S80:${K30:0:36}===="
refused 1 "the key is not valid base64" ctl leg add "${L[@]}" --in-key "$S80:${K30:0:38}=A"
refused 1 "the key is not valid base64" ctl leg add "${L[@]}" --in-key "AES_256_CM_HMAC_SHA1_80:${K46%==}"
# Non-canonical: the unused low bits of the digit before '==' are set.
refused 1 "the key is not valid base64" ctl leg add "${L[@]}" --in-key "AEAD_AES_128_GCM:${K28:0:37}B=="
refused 1 "the key is empty" ctl leg add "${L[@]}" --in-key "$S80:"
refused 1 "--in-key: unknown suite" ctl leg add "${L[@]}" --in-key "F8_128_HMAC_SHA1_80:$K30"
no_keys "$ERR" "$K30"
refused 1 "--in-key: unknown suite" ctl leg add "${L[@]}" --in-key "aes_cm_128_hmac_sha1_80:$K30"
refused 1 "--in-key: unknown suite" ctl leg add "${L[@]}" --in-key "$K30:$S80"
no_keys "$ERR" "$K30"
refused 1 "--in-key: MKI length must be 1..8 bytes" ctl leg add "${L[@]}" --in-key "$S80:$K30:1:9"
no_keys "$ERR" "$K30"
refused 1 "--in-key: MKI length must be 1..8 bytes" ctl leg add "${L[@]}" --in-key "$S80:$K30:1:0"
refused 1 "--in-key: MKI 256 does not fit in 1 byte" ctl leg add "${L[@]}" --in-key "$S80:$K30:256:1"
refused 1 "--in-key: MKI is not a decimal number" ctl leg add "${L[@]}" --in-key "$S80:$K30:-1:1"
refused 1 "--in-key: MKI is not a decimal number" ctl leg add "${L[@]}" --in-key "$S80:$K30:18446744073709551616:8"
refused 1 "--in-key: MKI and MKILEN go together" ctl leg add "${L[@]}" --in-key "$S80:$K30:5"
refused 1 "--in-key: MKI and MKILEN go together" ctl leg add "${L[@]}" --in-key "1:$S80:$K30:5"
refused 1 "--in-key: GEN must be 0 or 1" ctl leg add "${L[@]}" --in-key "2:$S80:$K30"
refused 1 "--in-key: expected [GEN:]SUITE:BASE64[:MKI:MKILEN]" ctl leg add "${L[@]}" --in-key "$K30"
no_keys "$ERR" "$K30"
refused 1 "--in-key: expected [GEN:]SUITE:BASE64[:MKI:MKILEN]" ctl leg add "${L[@]}" --in-key "0:$S80:$K30:1:1:1"
refused 1 "--in-key: generation 0 given twice" ctl leg add "${L[@]}" --in-key "$S80:$K30" --in-key "0:$S80:$K30"
refused 1 "--in-key and --no-in-key both name generation 1" ctl leg add "${L[@]}" --in-key "1:$S80:$K30" --no-in-key 1
refused 1 "--no-in-key: GEN must be 0 or 1" ctl leg add "${L[@]}" --in-key "$S80:$K30" --no-in-key 2
refused 1 "--no-out-key: GEN must be 0 or 1" ctl leg add "${L[@]}" --in-key "$S80:$K30" --no-out-key x
refused 1 "--out-active: GEN must be 0 or 1" ctl leg add "${L[@]}" --in-key "$S80:$K30" --out-active 01x
# A key split from its option by a blank, or behind a mistyped option, is not quoted.
refused 1 "unexpected argument (not shown: the command carries keys)" ctl leg add "${L[@]}" --in-key "$S80:$K30" "$K29"
no_keys "$ERR" "$K29" "$K30"
refused 1 "the slot is not a number" ctl leg set --in-key "$S80:$K30" "$K29"
no_keys "$ERR" "$K29" "$K30"
refused 1 "unknown option '--in-kee'" ctl leg add "${L[@]}" "--in-kee=$S80:$K29"
no_keys "$ERR" "$K29" "$K30"

# Encryption is mandatory: one keyed direction needs --pstn, and says which is missing.
refused 1 "plain RTP requires --pstn: media encryption is mandatory otherwise (the leg has no outbound key: give --out-key)" \
	ctl leg add --local 198.18.0.2:40000 --in-key "$S80:$K30"
refused 1 "plain RTP requires --pstn: media encryption is mandatory otherwise (the leg has no inbound key: give --in-key)" \
	ctl leg add --local 198.18.0.2:40000 --out-key "$S80:$K30"
refused 1 "outbound generation 0 is active but has no key (give --out-active 1" \
	ctl leg add --local 198.18.0.2:40000 --in-key "$S80:$K30" --out-key "1:$S80:$K30"
refused 1 "--out-active: outbound generation 1 has no key" \
	ctl leg add --local 198.18.0.2:40000 --in-key "$S80:$K30" --out-key "$S80:$K30" --out-active 1
refused 1 "no packet could ever authenticate" \
	ctl leg add --local 198.18.0.2:40000 --out-key "$S80:$K30" --pstn --latch auth
run 0 ctl leg add --local 198.18.0.2:40000 --in-key "$S80:$K30" --pstn --latch auth
IN_ONLY=$OUT
check "in only slot" "$IN_ONLY" 6
check "in only flags" "$(legf "$IN_ONLY" flags)" '["pstn"]'
check "in only latch" "$(legf "$IN_ONLY" latch)" '"auth"'
check "in only encrypted" "$(legf "$IN_ONLY" encrypted)" false
check "in only out" "$(legf "$IN_ONLY" srtp_out)" '{"active": 0, "gens": [null, null]}'
run 0 ctl leg add --local 198.18.0.2:40002 --out-key "1:$S80:$K30" --out-active 1 --pstn
check "out only" "$(legf "$OUT" srtp_out)" "{\"active\": 1, \"gens\": [null, {\"suite\": \"$S80\", \"mki_len\": 0}]}"
refused 1 "(the leg has no outbound key: give --out-key)" ctl leg set "$IN_ONLY" --no-pstn
refused 1 "--out-active: outbound generation 1 has no key" ctl leg set "$IN_ONLY" --out-active 1
refused 1 "--out-active: outbound generation 0 has no key" ctl leg set "$IN_ONLY" --out-active 0
refused 1 "no packet could ever authenticate" ctl leg set "$IN_ONLY" --no-in-key 0
run 0 ctl leg set "$IN_ONLY" --out-key "$S80:$K30" --no-pstn
check "keyed both ways" "$(legf "$IN_ONLY" flags)" '[]'
check "now encrypted" "$(legf "$IN_ONLY" encrypted)" true

# Rotation of leg 0: outbound make-before-break, then inbound.
R=${KSLOTS[0]}
G=$(legf "$R" generation)
KO1=$(b64 44)
run 0 ctl leg set "$R" --out-key "1:AEAD_AES_256_GCM:$KO1"
check "new out key parked" "$(legf "$R" srtp_out)" \
	"{\"active\": 0, \"gens\": [{\"suite\": \"$S80\", \"mki_len\": 1}, {\"suite\": \"AEAD_AES_256_GCM\", \"mki_len\": 0}]}"
run 0 ctl leg set "$R" --out-active 1
check "switched" "$(legf "$R" srtp_out)" \
	"{\"active\": 1, \"gens\": [{\"suite\": \"$S80\", \"mki_len\": 1}, {\"suite\": \"AEAD_AES_256_GCM\", \"mki_len\": 0}]}"
run 0 ctl leg list
[[ $OUT == *"0:$S80/mki1,1*:AEAD_AES_256_GCM"* ]] || fail "text list lacks the active mark: $OUT"
run 0 ctl leg set "$R" --no-out-key 0
check "old out key gone" "$(legf "$R" srtp_out)" \
	'{"active": 1, "gens": [null, {"suite": "AEAD_AES_256_GCM", "mki_len": 0}]}'
check "old out key wiped" "$(dp "$REG" key-gen "$R" out 0)" "$ZERO_GEN"
check "new out key bytes" "$(dp "$REG" key-gen "$R" out 1)" "$(gen_hex 6 32 12 "$KO1")"
check "rotation keeps uid" "$(legf "$R" leg_uid)" 1
check "rotation generations" "$(legf "$R" generation)" $((G + 3))
refused 1 "(the leg has no outbound key: give --out-key)" ctl leg set "$R" --no-out-key 1
refused 1 "--out-active: outbound generation 0 has no key" ctl leg set "$R" --out-active 0
KI1=$(b64 28)
run 0 ctl leg set "$R" --in-key "1:AEAD_AES_128_GCM:$KI1:18446744073709551615:8"
check "both in keys" "$(legf "$R" srtp_in)" \
	"{\"gens\": [{\"suite\": \"$S80\", \"mki_len\": 0}, {\"suite\": \"AEAD_AES_128_GCM\", \"mki_len\": 8}]}"
check "in gen 1 bytes" "$(dp "$REG" key-gen "$R" in 1)" "$(gen_hex 5 16 12 "$KI1" 18446744073709551615 8)"
run 0 ctl leg set "$R" --no-in-key 0
check "old in key gone" "$(legf "$R" srtp_in)" '{"gens": [null, {"suite": "AEAD_AES_128_GCM", "mki_len": 8}]}'
check "old in key wiped" "$(dp "$REG" key-gen "$R" in 0)" "$ZERO_GEN"
refused 1 "(the leg has no inbound key: give --in-key)" ctl leg set "$R" --no-in-key 1
# Replacing a generation in place.
run 0 ctl leg set "$R" --in-key "1:$S80:$K30"
check "in gen 1 replaced" "$(dp "$REG" key-gen "$R" in 1)" "$(gen_hex 1 16 14 "$K30")"
run 0 ctl leg list --json
no_keys "$OUT" "$KO1" "$KI1" "$K30"

# Keys from standard input (batch): not on any command line.
KB=$(b64 30)
run 0 bash -c "printf 'leg add --local 198.18.0.3:40000 --in-key $S80:%s --out-key 1:$S80:%s --out-active 1\\n' '$KB' '$KB' | \"$CTL\" -r \"$REG\" batch"
B=$OUT
check "batch keyed" "$(dp "$REG" key-gen "$B" out 1)" "$(gen_hex 1 16 14 "$KB")"
run 1 bash -c "printf 'leg set $B --in-key $S80:%s:1:9\\n' '$KB' | \"$CTL\" -r \"$REG\" batch"
err_has "MKI length must be 1..8 bytes"
no_keys "$ERR" "$KB"

# Deleting a leg wipes its keys in the region.
run 0 ctl leg del "$R"
for d in in out; do
	for g in 0 1; do
		check "deleted $d $g wiped" "$(dp "$REG" key-gen "$R" "$d" "$g")" "$ZERO_GEN"
	done
done

# --- leg add creates a default region ---------------------------------------------------
REG=$TMP/fresh
run 0 ctl leg add --local '[::1]:5000' --pstn
check "fresh slot" "$OUT" 0
run 0 ctl region info --json
check "default legs" "$(jget "$OUT" "d['max_legs']")" 65536
check "default workers" "$(jget "$OUT" "d['max_workers']")" 4
check "fresh rtcp" "$(legf 0 rtcp_port)" 5001

# batch: many commands, one process; the first failure stops it.
ctl region info --json >/dev/null
before=$(jget "$(ctl region info --json)" "d['active_legs']")
run 0 bash -c "printf 'leg add --pstn --slot 900 --local 198.18.0.2:40900\\n# comment\\n\\nleg add --pstn --slot 901 --local 198.18.0.2:40902\\nleg pair 900 901\\n' | \"$CTL\" -r \"$REG\" batch"
check "batch prints each add's slot" "$OUT" "$(printf '900\n901')"
check "batch pair applied" "$(legf 900 egress)" 901
run 1 bash -c "printf 'leg del 900\\nleg del 900\\nleg del 901\\n' | \"$CTL\" -r \"$REG\" batch"
err_has "batch: line 2 failed"
check "lines after a failure are not run" "$(legf 901 slot)" 901
run 0 ctl leg del 901
check "batch leaves the rest as it was" "$(jget "$(ctl region info --json)" "d['active_legs']")" "$before"
run 1 ctl batch extra
err_has "takes no arguments"

echo "mrelayctl e2e: $passed checks passed, $failed failed"
[[ $failed -eq 0 ]]
