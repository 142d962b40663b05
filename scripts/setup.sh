#!/usr/bin/env bash
# SPDX-License-Identifier: BSD-3-Clause
#
# setup.sh — make a Debian 12 machine ready to build, run and test mrelay,
# then build it. Run as root from anywhere; safe to run again (a second run
# installs nothing and only rebuilds what changed).
#
# What it changes on the host:
#   * packages: installs whatever of PKGS below is missing, with
#     `apt-get update` first only when apt does not know a missing package
#     (or the install failed). debconf: wireshark-common/install-setuid=false.
#   * /usr/sbin/policy-rc.d: created (exit 101, so no installed package
#     starts a daemon) for the duration of the install, and removed again
#     only if this script created it.
#   * services masked (a /dev/null link in /etc/systemd/system) after the
#     install (policy-rc.d kept them from starting during it):
#     rtpengine-daemon, rtpengine-recording-*, kamailio. The interop tests
#     start their own instances.
#   * hugepages: raises the 2 MiB pool to 768 pages (1.5 GiB), never
#     lowers it; mounts hugetlbfs on /dev/hugepages if it is not mounted.
#   * $MRELAY_BUILD (default build/ in the tree): meson setup, ninja, and
#     two files for callers:
#       eal-mem-args   the EAL memory arguments to use: "--in-memory" when
#                      hugepages work, else "--no-huge -m 1024"
#       no-hugepages   present only when hugepages are not used (fewer
#                      than 256 free 2 MiB pages, an EAL cannot use them,
#                      or MRELAY_NO_HUGE=1): tests then use
#                      "--no-huge -m 512"
#
# Environment: MRELAY_BUILD=DIR builds elsewhere (relative to the tree);
# MRELAY_NO_HUGE=1 leaves hugepages alone and chooses --no-huge.
set -euo pipefail

PKGS=(
	build-essential meson ninja-build pkg-config
	libdpdk-dev dpdk dpdk-dev
	libsrtp2-dev libipsec-mb-dev libssl-dev liburcu-dev libconfig-dev libsofia-sip-ua-dev
	libcmocka-dev libpcap-dev libsqlite3-dev
	tshark tcpdump iproute2 iptables python3 ethtool iputils-ping procps valgrind
	rtpengine-daemon rtpengine-utils baresip-core
	kamailio kamailio-tls-modules openssl
	linphone-cli
)
# Interop tests start their own rtpengine; the packaged services would take
# the relay's port range and set up iptables at boot, so they stay masked.
# baresip-core (the baresip interop test) ships no service: nothing to mask;
# nor does linphone-cli (linphonec, the linphone tests: tests/e2e/linphone_lab.py).
# The Kamailio test (tests/e2e/kamailio_call.py) starts its own kamailio on
# its own ports in a namespace; the packaged one would listen on 5060/5061.
MASKED_SERVICES=(rtpengine-daemon rtpengine-recording-daemon rtpengine-recording-nfs-mount
	kamailio)
HUGEPAGES_WANT=768      # 2 MiB pages: 1.5 GiB (the 1,000,000-leg bench needs ~700)
HUGEPAGES_MIN_FREE=256  # below this, use --no-huge
HP_DIR=/sys/kernel/mm/hugepages/hugepages-2048kB
POLICY_RC=/usr/sbin/policy-rc.d

say() {
	printf 'setup: %s\n' "$*"
}

die() {
	printf 'setup: error: %s\n' "$*" >&2
	exit 1
}

usage() {
	awk 'NR > 2 && !/^#/ { exit } NR > 2 { sub(/^# ?/, ""); print }' "$0"
}

case ${1:-} in
-h | --help)
	usage
	exit 0
	;;
'') ;;
*) die "unknown argument: $1 (see --help)" ;;
esac

[[ $(id -u) -eq 0 ]] || die "must run as root (try: sudo $0)"

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
BUILD=${MRELAY_BUILD:-build}

# --- packages --------------------------------------------------------------

created_policy_rc=0
remove_policy_rc() {
	if ((created_policy_rc)); then
		rm -f "$POLICY_RC"
		created_policy_rc=0
	fi
}
trap remove_policy_rc EXIT

missing_packages() {
	local p
	for p in "${PKGS[@]}"; do
		if [[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) != installed ]]; then
			printf '%s\n' "$p"
		fi
	done
}

apt_install() {
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$@"
}

# Does apt have an installation candidate for every package? (No package
# lists at all, as in a fresh container image, means no.)
apt_can_install() {
	local policy
	compgen -G '/var/lib/apt/lists/*_Packages*' >/dev/null || return 1
	apt-cache show --no-all-versions "$@" >/dev/null 2>&1 || return 1
	policy=$(apt-cache policy "$@" 2>/dev/null) || return 1
	! grep -q 'Candidate: (none)' <<<"$policy"
}

mask_services() {
	local svc
	for svc in "${MASKED_SERVICES[@]}"; do
		[[ -L /etc/systemd/system/$svc.service ]] && continue
		mkdir -p /etc/systemd/system
		ln -sf /dev/null "/etc/systemd/system/$svc.service"
	done
}

install_packages() {
	local missing updated=0
	mapfile -t missing < <(missing_packages)
	if ((${#missing[@]} == 0)); then
		say "packages: all ${#PKGS[@]} present"
		return 0
	fi
	say "packages: installing ${missing[*]}"
	if [[ ! -e $POLICY_RC ]]; then
		printf '#!/bin/sh\n# created by mrelay scripts/setup.sh\nexit 101\n' >"$POLICY_RC"
		chmod 0755 "$POLICY_RC"
		created_policy_rc=1
	fi
	echo 'wireshark-common wireshark-common/install-setuid boolean false' |
		debconf-set-selections
	# Update the lists only when apt cannot install a package we need yet.
	if ! apt_can_install "${missing[@]}"; then
		say "packages: apt-get update"
		apt-get update -q
		updated=1
	fi
	if ! apt_install "${missing[@]}"; then
		((updated == 0)) || die "apt-get install failed"
		say "packages: install failed; apt-get update and retry"
		apt-get update -q
		apt_install "${missing[@]}"
	fi
	remove_policy_rc
	mapfile -t missing < <(missing_packages)
	((${#missing[@]} == 0)) || die "still missing after install: ${missing[*]}"
}

# --- hugepages -------------------------------------------------------------

hp_read() {
	cat "$HP_DIR/$1" 2>/dev/null || echo 0
}

# Raise the 2 MiB pool. Through sysfs because /proc/sys/vm/nr_hugepages is
# the *default* page size, which is 1 GiB on hosts booted with
# default_hugepagesz=1G (768 of those would be 768 GiB); /proc only when the
# default size is 2 MiB.
reserve_hugepages() {
	local total
	total=$(hp_read nr_hugepages)
	if ((total < HUGEPAGES_WANT)); then
		if [[ -w $HP_DIR/nr_hugepages ]] &&
			echo "$HUGEPAGES_WANT" 2>/dev/null >"$HP_DIR/nr_hugepages"; then
			:
		elif grep -q '^Hugepagesize: *2048 kB' /proc/meminfo &&
			echo "$HUGEPAGES_WANT" 2>/dev/null >/proc/sys/vm/nr_hugepages; then
			:
		else
			say "hugepages: cannot change the pool (read-only sysfs/procfs?)"
		fi
		say "hugepages: 2 MiB pool $total -> $(hp_read nr_hugepages) (wanted $HUGEPAGES_WANT)"
	else
		say "hugepages: 2 MiB pool has $total pages"
	fi
	if ! awk '$2 == "/dev/hugepages" && $3 == "hugetlbfs" { f = 1 } END { exit !f }' /proc/mounts; then
		if mkdir -p /dev/hugepages 2>/dev/null &&
			mount -t hugetlbfs -o pagesize=2M nodev /dev/hugepages 2>/dev/null; then
			say "hugepages: mounted hugetlbfs on /dev/hugepages"
		else
			say "hugepages: could not mount hugetlbfs on /dev/hugepages (--in-memory does not need it)"
		fi
	fi
}

# Can an EAL actually get hugepages here? (A container may show a pool its
# cgroup does not let it use.) dpdk-test initialises the EAL and quits;
# --in-memory leaves nothing behind.
eal_hugepages_work() {
	command -v dpdk-test >/dev/null 2>&1 || return 0
	echo quit | timeout 30 dpdk-test -l 0 --in-memory --no-pci -m 64 \
		--log-level='*:error' >/dev/null 2>&1
}

choose_eal_mem_args() {
	local free
	free=$(hp_read free_hugepages)
	if [[ ${MRELAY_NO_HUGE:-0} == 1 ]]; then
		EAL_MEM_ARGS="--no-huge -m 1024"
		NO_HUGE=1
		say "hugepages: not used (MRELAY_NO_HUGE=1); EAL memory args: $EAL_MEM_ARGS"
	elif ((free >= HUGEPAGES_MIN_FREE)) && eal_hugepages_work; then
		EAL_MEM_ARGS="--in-memory"
		NO_HUGE=0
		say "hugepages: $free free; EAL memory args: $EAL_MEM_ARGS"
	else
		EAL_MEM_ARGS="--no-huge -m 1024"
		NO_HUGE=1
		if ((free >= HUGEPAGES_MIN_FREE)); then
			say "note: hugepages are reserved but an EAL cannot use them"
		else
			say "note: only $free free 2 MiB hugepages (< $HUGEPAGES_MIN_FREE)"
		fi
		say "note: running without hugepages; EAL memory args: $EAL_MEM_ARGS (tests: --no-huge -m 512)"
	fi
}

write_eal_files() {
	printf '%s\n' "$EAL_MEM_ARGS" >"$BUILD/eal-mem-args"
	if ((NO_HUGE)); then
		printf 'hugepages unusable here (< %d free 2 MiB pages, or MRELAY_NO_HUGE=1): use --no-huge -m 512\n' \
			"$HUGEPAGES_MIN_FREE" >"$BUILD/no-hugepages"
	else
		rm -f "$BUILD/no-hugepages"
	fi
	if ((NO_HUGE)); then
		say "wrote $BUILD/eal-mem-args and $BUILD/no-hugepages"
	else
		say "wrote $BUILD/eal-mem-args"
	fi
}

# --- build -----------------------------------------------------------------

# Tool output goes to a log and is shown only when the step fails.
run_logged() {
	local log=$1
	shift
	if ! "$@" >"$log" 2>&1; then
		tail -n 60 "$log" >&2
		die "failed: $* (full log: $log)"
	fi
}

build() {
	local log
	log=$(mktemp /tmp/mrelay-setup.XXXXXX)
	if [[ -f $BUILD/meson-private/coredata.dat && -f $BUILD/build.ninja ]]; then
		say "meson: $BUILD already configured (ninja regenerates it if needed)"
	elif [[ -f $BUILD/meson-private/coredata.dat ]]; then
		say "meson: reconfigure $BUILD"
		run_logged "$log" meson setup --reconfigure "$BUILD"
	else
		say "meson: setup $BUILD"
		run_logged "$log" meson setup "$BUILD"
	fi
	write_eal_files
	say "ninja: build $BUILD"
	run_logged "$log" ninja -C "$BUILD"
	rm -f "$log"
}

install_packages
mask_services
if [[ ${MRELAY_NO_HUGE:-0} != 1 ]]; then
	reserve_hugepages
fi
choose_eal_mem_args
build
say "done"
