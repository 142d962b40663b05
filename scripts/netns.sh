# shellcheck shell=bash
# SPDX-License-Identifier: BSD-3-Clause
#
# netns.sh — helpers for scripts and tests that build virtual networks for
# mrelay-dp. Source it from a bash script running `set -euo pipefail` as
# root; it defines functions only and changes nothing by being sourced.
#
# What the functions change on the host: network namespaces (ip netns add),
# veth pairs, addresses from 198.18.0.0/15 only (RFC 2544 benchmarking
# space; anything else is refused), per-interface sysctls of the veths they
# create, and tx checksum offload of those veths. mr_cleanup undoes, in
# reverse order, everything registered with mr_cleanup_push (the create
# functions register their own undo); mr_cleanup_trap runs it on exit.
#
# A typical test topology (draw yours atop the script that builds it):
#
#   +----------------------+            +-------------------------------+
#   | netns mr-peer        |            | netns mr-dut (or the host)    |
#   |  198.18.0.1/24       |            |  no kernel address: mrelay-dp |
#   |  RTP peers (python)  |    veth    |  owns it (net_af_packet),     |
#   |        mr-peer0 =====+============+= mr-dp0   relay 198.18.0.2    |
#   +----------------------+            +-------------------------------+
#
# Functions (NS may be "" for the current namespace):
#   mr_netns_require                    check root and the tools used below
#   mr_addr_check ADDR[/PLEN]           fail unless inside 198.18.0.0/15
#   mr_ns_create NS / mr_ns_delete NS   idempotent; lo is brought up
#   mr_in_ns NS CMD...                  run CMD in NS (or here if NS is "")
#   mr_veth_create A NS_A B NS_B        fresh pair A<->B, ends moved to their
#                                       namespaces, tx checksumming off, up
#   mr_link_delete IF [NS]              delete a link (and its veth peer)
#   mr_if_addr IF ADDR/PLEN [NS]        add an address (198.18.0.0/15 only)
#   mr_if_dp_prepare IF [NS]            make IF fit for a DPDK PMD: no IPv6,
#                                       no kernel forwarding or ARP replies
#   mr_wait_link_up IF [NS] [SECONDS]   wait for operstate up
#   mr_cleanup_push CMD...              register an undo step (LIFO)
#   mr_cleanup                          run and forget the undo steps
#   mr_cleanup_trap                     run mr_cleanup on EXIT, and exit on
#                                       INT/TERM (which then runs it too)

MR_CLEANUP=()

mr_log() {
	printf '%s\n' "$*" >&2
}

mr_die() {
	printf 'error: %s\n' "$*" >&2
	exit 1
}

mr_netns_require() {
	local t
	[[ ${EUID:-$(id -u)} -eq 0 ]] || mr_die "must run as root (network namespaces, veths)"
	for t in ip ethtool sysctl; do
		command -v "$t" >/dev/null 2>&1 || mr_die "missing tool: $t (run scripts/setup.sh)"
	done
}

# Only 198.18.0.0/15 (198.18.0.0 - 198.19.255.255) may appear on a link we
# create: test traffic must never be routable anywhere real.
mr_addr_check() {
	local a=${1%%/*} o1 o2 o3 o4 rest
	IFS=. read -r o1 o2 o3 o4 rest <<<"$a"
	if [[ -n $rest || ! $o1 =~ ^[0-9]+$ || ! $o2 =~ ^[0-9]+$ ||
		! $o3 =~ ^[0-9]+$ || ! $o4 =~ ^[0-9]+$ ]] ||
		((o1 != 198 || (o2 != 18 && o2 != 19) || o3 > 255 || o4 > 255)); then
		mr_die "address $1 is outside 198.18.0.0/15; refusing to configure it"
	fi
}

mr_in_ns() {
	local ns=$1
	shift
	if [[ -n $ns ]]; then
		ip netns exec "$ns" "$@"
	else
		"$@"
	fi
}

mr_ns_exists() {
	[[ -e /run/netns/$1 ]]
}

mr_ns_create() {
	local ns=$1
	if ! mr_ns_exists "$ns"; then
		ip netns add "$ns"
	fi
	ip -n "$ns" link set lo up
	mr_cleanup_push mr_ns_delete "$ns"
}

mr_ns_delete() {
	local ns=$1
	if mr_ns_exists "$ns"; then
		ip netns delete "$ns"
	fi
}

mr_link_exists() {
	local ifname=$1 ns=${2:-}
	mr_in_ns "$ns" ip link show dev "$ifname" >/dev/null 2>&1
}

# Deleting either end of a veth deletes the pair.
mr_link_delete() {
	local ifname=$1 ns=${2:-}
	if mr_link_exists "$ifname" "$ns"; then
		mr_in_ns "$ns" ip link delete dev "$ifname"
	fi
}

# Local sockets on a veth leave UDP checksums partial (CHECKSUM_PARTIAL) for
# the "hardware" to finish; an AF_PACKET reader such as net_af_packet sees
# them unfinished and the relay would forward bad checksums. Turning tx
# checksumming off makes the kernel finish them in software.
mr_if_tx_csum_off() {
	local ifname=$1 ns=${2:-}
	mr_in_ns "$ns" ethtool -K "$ifname" tx off >/dev/null
}

mr_sysctl() {
	local ns=$1 key=$2 val=$3
	mr_in_ns "$ns" sysctl -q -w "$key=$val" >/dev/null
}

# mr_veth_create A NS_A B NS_B: replaces any existing A (a leftover of a
# killed run), so calling it twice gives the same result.
mr_veth_create() {
	local a=$1 ns_a=$2 b=$3 ns_b=$4
	mr_link_delete "$a" "$ns_a"
	mr_link_delete "$b" "$ns_b"
	ip link add "$a" type veth peer name "$b"
	mr_cleanup_push mr_link_delete "$a" "$ns_a"
	if [[ -n $ns_a ]]; then
		ip link set "$a" netns "$ns_a"
	fi
	if [[ -n $ns_b ]]; then
		ip link set "$b" netns "$ns_b"
	fi
	mr_if_tx_csum_off "$a" "$ns_a"
	mr_if_tx_csum_off "$b" "$ns_b"
	mr_in_ns "$ns_a" ip link set "$a" up
	mr_in_ns "$ns_b" ip link set "$b" up
}

mr_if_addr() {
	local ifname=$1 addr=$2 ns=${3:-}
	mr_addr_check "$addr"
	[[ $addr == */* ]] || addr+=/32
	mr_in_ns "$ns" ip addr replace "$addr" dev "$ifname"
}

# The end a DPDK PMD owns must stay silent in the kernel: no IPv6 (no
# autoconfiguration, DAD or router solicitations leaking into the relay's
# input), no IPv4 forwarding of the relay's traffic back out (which would
# loop when the host has ip_forward=1), no ARP replies for the host's own
# addresses. Must run before mrelay-dp starts.
mr_if_dp_prepare() {
	local ifname=$1 ns=${2:-}
	mr_sysctl "$ns" "net.ipv6.conf.$ifname.disable_ipv6" 1
	mr_sysctl "$ns" "net.ipv4.conf.$ifname.forwarding" 0
	mr_sysctl "$ns" "net.ipv4.conf.$ifname.arp_ignore" 8
	mr_if_tx_csum_off "$ifname" "$ns"
	mr_in_ns "$ns" ip link set "$ifname" up
}

mr_wait_link_up() {
	local ifname=$1 ns=${2:-} secs=${3:-5} i state
	for ((i = 0; i < secs * 10; i++)); do
		state=$(mr_in_ns "$ns" cat "/sys/class/net/$ifname/operstate" 2>/dev/null || true)
		[[ $state == up ]] && return 0
		sleep 0.1
	done
	mr_die "link $ifname${ns:+ in netns $ns} is not up after ${secs}s (state: ${state:-absent})"
}

mr_cleanup_push() {
	local cmd
	printf -v cmd '%q ' "$@"
	MR_CLEANUP+=("$cmd")
}

# Runs the undo steps newest first. Errors are reported, not fatal: cleanup
# must get as far as it can.
mr_cleanup() {
	local i
	for ((i = ${#MR_CLEANUP[@]} - 1; i >= 0; i--)); do
		eval "${MR_CLEANUP[i]}" || mr_log "cleanup: '${MR_CLEANUP[i]}' failed"
	done
	MR_CLEANUP=()
}

mr_cleanup_trap() {
	trap 'mr_cleanup' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
}
