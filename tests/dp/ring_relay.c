/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The dataplane in-process on a net_ring port: frames in, frames out, every
 * byte of what comes out checked here in C, and the relayed frames checked
 * once more by tshark with IP and UDP checksum validation on.
 *
 *   test thread (pthread, CPU of lcore 0)             worker lcore 1
 *     builds frames --rr_rx ring--> net_ring "rr" --> mr_pkt_burst()
 *     checks frames <--rr_tx ring-- net_ring "rr" <-- tx buffer
 *   management loop on the main lcore 0, stopped by the test thread (mr_dp.quit)
 *
 *   relay 198.18.0.2/24 (the port's MAC)
 *   leg A slot 0: relay :30000/:30001  peer A 198.18.0.10:40000/40001  DSCP 46
 *   leg B slot 1: relay :30002/:30003  peer B 198.18.0.11:40002/40003  DSCP 34
 *   A and B are on-link with static neighbour entries (02:00:00:00:00:0a/0b);
 *   both legs plain RTP on PSTN, latch "first", no re-latch window.
 *   Then SRTP legs C slot 2 (:30010, peer at A's address :40010, two inbound
 *   key generations) and D slot 3 (:30012, peer at B's :40012), checked byte
 *   for byte against libsrtp, with one receive burst mixing packets settled
 *   on the first and on the second key generation. Last, plain legs E slot 4
 *   (:30020, peer at A's :40020) and F slot 5 (:30022, muted, signaled at
 *   B's :40099, sending from :40022): a latch inside a burst redirects the
 *   packets after it. Then leg G slot 6 (:30030, relaying to itself, peer at
 *   A's :40030): slots the dataplane must refuse, a plain one without the
 *   PSTN mark (written through region.h) and good ones corrupted in place
 *   past region.h's checks; each leaves the port without a leg, and the
 *   slot takes a good leg again. G moves onto its own RTCP port and is
 *   found there. Last, G's slot gets random bytes changed 300 times, a
 *   packet after each: the dataplane keeps answering, and a good G relays
 *   after every one.
 *
 * net_ring's MAC is 00:00:00:00:00:00 and cannot be changed (no mac_addr_set
 * op), so "source MAC = the port's" compares with what rte_eth_macaddr_get()
 * reports, whatever it is.
 *
 * The control side is the real one: the region is created and the legs
 * written through controlplane/shm/region.h, the configuration is a file
 * loaded by mr_config_load(). Checksums are computed here from RFC 1071,
 * never with DPDK's or the dataplane's helpers.
 *
 * Output: "ok N - ..." per check; the first failed check prints "not ok N - ..."
 * and the test stops, cleans up (temporary directory, region, pcap) and exits
 * 1, also on SIGINT/SIGTERM. Exit 0 means every check passed. Another process
 * holding the same EAL file prefix (another build directory running this
 * test) is waited for, up to 30 s, rather than failing EAL start-up.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_eth_ring.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#ifdef RING_RELAY_PCAP
#include <pcap/pcap.h>
#endif

#include "dp.h"
#include "region.h"
#include "srtp.h"
#include "../xorshift.h"

#define WORKER_LCORE 1u
#define RING_SIZE 1024u
#define MAX_FRAME 1514u
#define MAX_OUT 64u
#define MAX_EVENTS 64u
#define WAIT_MS 5000u           /* for anything the dataplane should do promptly */
#define EAL_WAIT_MS 30000u      /* for another run holding our EAL file prefix */
#define QUIET_MS 300u           /* listening for frames that must not come */
#define RTP_PAYLOAD 160u
#define N_RTP 4u                /* RTP packets per direction */

static const uint8_t RELAY_IP[4] = { 198, 18, 0, 2 };
static const uint8_t A_IP[4] = { 198, 18, 0, 10 };
static const uint8_t B_IP[4] = { 198, 18, 0, 11 };
static const uint8_t SPOOF_IP[4] = { 198, 18, 0, 66 };
static const uint8_t A_MAC[6] = { 0x02, 0, 0, 0, 0, 0x0a };
static const uint8_t B_MAC[6] = { 0x02, 0, 0, 0, 0, 0x0b };
static const uint8_t SPOOF_MAC[6] = { 0x02, 0, 0, 0, 0, 0x42 };
#define A_PORT 40000u
#define B_PORT 40002u
#define RELAY_A 30000u          /* leg A: RTP, RTCP = +1 */
#define RELAY_B 30002u          /* leg B */
#define RELAY_UNUSED 30100u     /* in the relay range, no leg */
#define DSCP_A 46u
#define DSCP_B 34u
#define SLOT_A 0u
#define SLOT_B 1u
/* SRTP legs C and D: C's peer is at A's address, D's at B's */
#define C_PORT 40010u
#define D_PORT 40012u
#define RELAY_C 30010u
#define RELAY_D 30012u
#define SLOT_C 2u
#define SLOT_D 3u
#define SSRC_C 0xcccc0003u
#define SSRC_D 0xdddd0004u
#define N_BURST_D 10u           /* D's packets in the mixed burst */
/* plain legs E and F: F's peer signals one port and sends from another */
#define E_PORT 40020u
#define F_HINT_PORT 40099u
#define F_PORT 40022u
#define RELAY_E 30020u
#define RELAY_F 30022u
#define SLOT_E 4u
#define SLOT_F 5u
/* leg G, relaying to itself: the slots the dataplane must refuse */
#define G_PORT 40030u
#define RELAY_G 30030u
#define SLOT_G 6u
#define DSCP_G 0u

/* A frame we expect the relay to send. */
struct expect {
	const char *what;
	const uint8_t *dst_mac;
	const uint8_t *dst_ip;
	uint16_t src_port, dst_port;
	uint8_t dscp;
	const uint8_t *payload;
	uint16_t payload_len;
};

struct test {
	char dir[64], region_path[96], conf_path[96], pcap_path[96];
	struct rte_ring *rx, *tx;       /* rx: test -> worker; tx: worker -> test */
	struct rte_mempool *pool;       /* the frames the test injects */
	uint16_t port_id;
	struct rte_ether_addr port_mac;
	struct mr_region region;
	struct mr_event events[MAX_EVENTS];
	unsigned int n_events;
	unsigned int n_checks, n_relayed, n_injected;
#ifdef RING_RELAY_PCAP
	pcap_t *pcap;
	pcap_dumper_t *dumper;
#endif
	int status;                     /* 0 until a check fails */
};

static volatile sig_atomic_t interrupted;

static struct test T;

/* --- reporting ------------------------------------------------------------ */

static void
pass(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("ok %u - ", ++T.n_checks);
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
}

static void
fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	printf("not ok %u - ", ++T.n_checks);
	vprintf(fmt, ap);
	printf("\n");
	va_end(ap);
	T.status = -1;
}

/* Fail the current step (return -1) with a message unless @cond. */
#define CHECK(cond, ...)                        \
	do {                                    \
		if (!(cond)) {                  \
			fail(__VA_ARGS__);      \
			return -1;              \
		}                               \
	} while (0)

static uint64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void
sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000u, .tv_nsec = (long)(ms % 1000u) * 1000000L };

	nanosleep(&ts, NULL);
}

static const char *
ip_str(const uint8_t *ip, char *buf, size_t len)
{
	snprintf(buf, len, "%u.%u.%u.%u", ip[0], ip[1], ip[2], ip[3]);
	return buf;
}

static const char *
mac_str(const uint8_t *m, char *buf, size_t len)
{
	snprintf(buf, len, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
	return buf;
}

/* --- frames, built and checked byte by byte (RFC 791, 768, 1071) ---------- */

static void
put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static uint16_t
get16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

/* One's-complement sum of big-endian 16-bit words, odd length zero-padded. */
static uint32_t
sum16(uint32_t sum, const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)get16(p + i);
	if (len & 1u)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static uint16_t
fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffffu) + (sum >> 16);
	return (uint16_t)~sum;
}

/* The IPv4 header checksum of @ip (ihl bytes), its checksum field taken as zero. */
static uint16_t
ipv4_cksum(const uint8_t *ip, size_t ihl)
{
	uint32_t sum = sum16(0, ip, 10);

	return fold(sum16(sum, ip + 12, ihl - 12));
}

/* The UDP checksum of @udp (@len bytes, its checksum field taken as zero); 0 is sent as 0xffff. */
static uint16_t
udp4_cksum(const uint8_t *src, const uint8_t *dst, const uint8_t *udp, uint16_t len)
{
	uint8_t ph[12];
	uint32_t sum;
	uint16_t c;

	memcpy(ph, src, 4);
	memcpy(ph + 4, dst, 4);
	ph[8] = 0;
	ph[9] = 17;
	put16(ph + 10, len);
	sum = sum16(0, ph, sizeof(ph));
	sum = sum16(sum, udp, 6);
	sum = sum16(sum, udp + 8, (size_t)len - 8u);
	c = fold(sum);
	return c == 0 ? 0xffff : c;
}

/* Ethernet + IPv4 (no options) + UDP + @payload into @f; returns the frame length. */
static uint16_t
udp4_frame(uint8_t *f, const uint8_t *dmac, const uint8_t *smac, const uint8_t *sip,
	   uint16_t sport, const uint8_t *dip, uint16_t dport, const uint8_t *payload,
	   uint16_t len)
{
	uint8_t *ip = f + 14, *udp = f + 34;

	memcpy(f, dmac, 6);
	memcpy(f + 6, smac, 6);
	put16(f + 12, 0x0800);
	ip[0] = 0x45;
	ip[1] = 0;
	put16(ip + 2, (uint16_t)(20u + 8u + len));
	put16(ip + 4, 0x1234);
	put16(ip + 6, 0x4000);          /* DF */
	ip[8] = 64;
	ip[9] = 17;
	memcpy(ip + 12, sip, 4);
	memcpy(ip + 16, dip, 4);
	put16(ip + 10, ipv4_cksum(ip, 20));
	put16(udp, sport);
	put16(udp + 2, dport);
	put16(udp + 4, (uint16_t)(8u + len));
	memcpy(udp + 8, payload, len);
	put16(udp + 6, udp4_cksum(sip, dip, udp, (uint16_t)(8u + len)));
	return (uint16_t)(34u + 8u + len);
}

/* RTP (RFC 3550): version 2, PCMU, then @n payload bytes that differ per packet. */
static uint16_t
rtp_sized(uint8_t *p, uint16_t seq, uint32_t ssrc, uint16_t n)
{
	unsigned int i;

	p[0] = 0x80;
	p[1] = 0;
	put16(p + 2, seq);
	put16(p + 4, (uint16_t)((seq * 160u) >> 16));
	put16(p + 6, (uint16_t)(seq * 160u));
	put16(p + 8, (uint16_t)(ssrc >> 16));
	put16(p + 10, (uint16_t)ssrc);
	for (i = 0; i < n; i++)
		p[12 + i] = (uint8_t)(seq * 31u + ssrc + i);
	return (uint16_t)(12u + n);
}

static uint16_t
rtp_packet(uint8_t *p, uint16_t seq, uint32_t ssrc)
{
	return rtp_sized(p, seq, ssrc, RTP_PAYLOAD);
}

/* An RTCP sender report without report blocks (RFC 3550 section 6.4.1). */
static uint16_t
rtcp_sr(uint8_t *p, uint32_t ssrc)
{
	unsigned int i;

	memset(p, 0, 28);
	p[0] = 0x80;
	p[1] = 200;
	put16(p + 2, 6);
	put16(p + 4, (uint16_t)(ssrc >> 16));
	put16(p + 6, (uint16_t)ssrc);
	for (i = 8; i < 28; i++)
		p[i] = (uint8_t)(ssrc ^ (i * 17u));
	return 28;
}

/* --- the wire: the two rings of the net_ring port --------------------------- */

/*
 * Frames into the RX ring with one enqueue: the worker's next receive burst
 * takes them all together (the ring publishes them at once).
 */
static int
inject_burst(uint8_t (*frames)[MAX_FRAME], const uint16_t *lens, unsigned int n, const char *what)
{
	struct rte_mbuf *m[MAX_OUT];
	unsigned int i;

	CHECK(n <= MAX_OUT && rte_pktmbuf_alloc_bulk(T.pool, m, n) == 0, "%s: no mbufs to inject",
	      what);
	for (i = 0; i < n; i++) {
		memcpy(rte_pktmbuf_append(m[i], lens[i]), frames[i], lens[i]);
		m[i]->port = T.port_id;
	}
	if (rte_ring_sp_enqueue_bulk(T.rx, (void **)m, n, NULL) != n) {
		rte_pktmbuf_free_bulk(m, n);
		CHECK(false, "%s: RX ring full", what);
	}
	T.n_injected += n;
	return 0;
}

static int
inject(const uint8_t *frame, uint16_t len, const char *what)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(T.pool);
	char *d;

	CHECK(m != NULL, "%s: no mbuf to inject", what);
	d = rte_pktmbuf_append(m, len);
	if (d == NULL) {
		rte_pktmbuf_free(m);
		CHECK(false, "%s: %u bytes do not fit an mbuf", what, len);
	}
	memcpy(d, frame, len);
	m->port = T.port_id;
	if (rte_ring_sp_enqueue(T.rx, m) != 0) {
		rte_pktmbuf_free(m);
		CHECK(false, "%s: RX ring full", what);
	}
	T.n_injected++;
	return 0;
}

#ifdef RING_RELAY_PCAP
static void
pcap_record(const uint8_t *f, uint16_t len)
{
	struct pcap_pkthdr h;

	if (T.dumper == NULL)
		return;
	memset(&h, 0, sizeof(h));
	gettimeofday(&h.ts, NULL);
	h.caplen = len;
	h.len = len;
	pcap_dump((u_char *)T.dumper, &h, f);
}
#endif

/*
 * Take frames from the TX ring into @out until @want arrived or @timeout_ms
 * passed; then listen @linger_ms more for frames that should not be there.
 * Returns how many arrived (at most MAX_OUT kept).
 */
static unsigned int
collect(uint8_t out[][MAX_FRAME], uint16_t *out_len, unsigned int want,
	unsigned int timeout_ms, unsigned int linger_ms)
{
	uint64_t deadline = now_ms() + timeout_ms, quiet_until = 0;
	unsigned int n = 0;
	struct rte_mbuf *m;

	for (;;) {
		if (rte_ring_sc_dequeue(T.tx, (void **)&m) == 0) {
			if (n < MAX_OUT) {
				uint16_t len = (uint16_t)RTE_MIN(rte_pktmbuf_pkt_len(m), MAX_FRAME);
				const uint8_t *d = rte_pktmbuf_read(m, 0, len, out[n]);

				if (d != out[n])
					memcpy(out[n], d, len);
				/* A multi-segment frame would show here as a length mismatch. */
				out_len[n] = m->nb_segs == 1 ? len : 0;
			}
			n++;
			rte_pktmbuf_free(m);
			continue;
		}
		if (n >= want && quiet_until == 0)
			quiet_until = now_ms() + linger_ms;
		if (interrupted ||
		    (quiet_until != 0 ? now_ms() >= quiet_until : now_ms() >= deadline))
			break;
		sleep_ms(1);
	}
	return n;
}

/* Check one relayed frame against @e, every field, checksums recomputed here. */
static int
check_frame(const uint8_t *f, uint16_t len, const struct expect *e)
{
	const uint8_t *ip = f + 14, *udp = f + 34;
	char b1[32], b2[32];
	uint16_t ck, want;

	CHECK(len == 42u + e->payload_len, "%s: frame length %u, expected %u (single segment)",
	      e->what, len, 42u + e->payload_len);
	CHECK(memcmp(f, e->dst_mac, 6) == 0, "%s: destination MAC %s, expected the neighbour's %s",
	      e->what, mac_str(f, b1, sizeof(b1)), mac_str(e->dst_mac, b2, sizeof(b2)));
	CHECK(memcmp(f + 6, T.port_mac.addr_bytes, 6) == 0,
	      "%s: source MAC %s, expected the port's %s", e->what, mac_str(f + 6, b1, sizeof(b1)),
	      mac_str(T.port_mac.addr_bytes, b2, sizeof(b2)));
	CHECK(get16(f + 12) == 0x0800, "%s: ethertype 0x%04x, expected IPv4", e->what, get16(f + 12));
	CHECK(ip[0] == 0x45, "%s: IP version/IHL 0x%02x, expected 0x45", e->what, ip[0]);
	CHECK(ip[1] >> 2 == e->dscp, "%s: DSCP %u, expected the egress leg's %u", e->what,
	      ip[1] >> 2, e->dscp);
	CHECK(get16(ip + 2) == 28u + e->payload_len, "%s: IP total length %u, expected %u",
	      e->what, get16(ip + 2), 28u + e->payload_len);
	CHECK((get16(ip + 6) & 0x3fffu) == 0, "%s: fragment bits 0x%04x", e->what, get16(ip + 6));
	CHECK(ip[8] > 1, "%s: TTL %u", e->what, ip[8]);
	CHECK(ip[9] == 17, "%s: IP protocol %u, expected UDP", e->what, ip[9]);
	CHECK(memcmp(ip + 12, RELAY_IP, 4) == 0, "%s: source IP %s, expected the relay's", e->what,
	      ip_str(ip + 12, b1, sizeof(b1)));
	CHECK(memcmp(ip + 16, e->dst_ip, 4) == 0, "%s: destination IP %s, expected %s", e->what,
	      ip_str(ip + 16, b1, sizeof(b1)), ip_str(e->dst_ip, b2, sizeof(b2)));
	ck = get16(ip + 10);
	want = ipv4_cksum(ip, 20);
	CHECK(ck == want, "%s: IPv4 header checksum 0x%04x, expected 0x%04x", e->what, ck, want);
	CHECK(fold(sum16(0, ip, 20)) == 0, "%s: IPv4 header does not sum to 0xffff", e->what);
	CHECK(get16(udp) == e->src_port, "%s: UDP source port %u, expected %u", e->what,
	      get16(udp), e->src_port);
	CHECK(get16(udp + 2) == e->dst_port, "%s: UDP destination port %u, expected %u", e->what,
	      get16(udp + 2), e->dst_port);
	CHECK(get16(udp + 4) == 8u + e->payload_len, "%s: UDP length %u, expected %u", e->what,
	      get16(udp + 4), 8u + e->payload_len);
	ck = get16(udp + 6);
	want = udp4_cksum(ip + 12, ip + 16, udp, (uint16_t)(8u + e->payload_len));
	CHECK(ck != 0, "%s: UDP checksum absent (0)", e->what);
	CHECK(ck == want, "%s: UDP checksum 0x%04x, expected 0x%04x", e->what, ck, want);
	CHECK(memcmp(udp + 8, e->payload, e->payload_len) == 0, "%s: payload bytes changed",
	      e->what);
	return 0;
}

/*
 * Inject nothing more; wait for exactly the @n expected frames, in order, and
 * check each. Relayed frames also go to the pcap file.
 */
static int
expect_frames(const struct expect *e, unsigned int n, const char *step)
{
	static uint8_t out[MAX_OUT][MAX_FRAME];
	static uint16_t out_len[MAX_OUT];
	unsigned int got, i;

	got = collect(out, out_len, n, WAIT_MS, n == 0 ? QUIET_MS : 20);
	CHECK(!interrupted, "%s: interrupted by a signal", step);
	CHECK(got == n, "%s: %u frame%s sent, expected %u", step, got, got == 1 ? "" : "s", n);
	for (i = 0; i < n; i++) {
#ifdef RING_RELAY_PCAP
		pcap_record(out[i], out_len[i]);
#endif
		if (check_frame(out[i], out_len[i], &e[i]) < 0)
			return -1;
	}
	T.n_relayed += n;
	return 0;
}

/* --- counters and events ------------------------------------------------ */

/* Drops of @reason summed over every lcore's row (workers and management). */
static uint64_t
drops(unsigned int reason)
{
	const struct mr_shm_header *h = T.region.hdr;
	uint64_t sum = 0;
	uint32_t w;

	for (w = 0; w <= h->max_workers; w++)
		sum += __atomic_load_n(&mr_shm_wstats(h, w)->drops[reason], __ATOMIC_RELAXED);
	return sum;
}

static uint64_t
wstat_sum(size_t off)
{
	const struct mr_shm_header *h = T.region.hdr;
	uint64_t sum = 0;
	uint32_t w;

	for (w = 0; w <= h->max_workers; w++)
		sum += __atomic_load_n((const uint64_t *)((const uint8_t *)mr_shm_wstats(h, w) + off),
				       __ATOMIC_RELAXED);
	return sum;
}

/* Wait until drops[@reason] reaches @want (and check it goes no further). */
static int
expect_drop(unsigned int reason, uint64_t want, const char *what)
{
	uint64_t deadline = now_ms() + WAIT_MS;

	while (drops(reason) < want && now_ms() < deadline && !interrupted)
		sleep_ms(1);
	CHECK(drops(reason) >= want, "%s: %s counted %" PRIu64 ", expected %" PRIu64 " within %u ms",
	      what, mr_drop_name(reason), drops(reason), want, WAIT_MS);
	return 0;
}

static void
on_event(const struct mr_event *ev, void *ctx)
{
	(void)ctx;
	if (T.n_events < MAX_EVENTS)
		T.events[T.n_events++] = *ev;
}

/* Round trip through the command ring; events popped meanwhile are kept. */
static int
sync_dp(const char *why)
{
	struct mr_event ev;
	int r = mr_region_sync(&T.region, WAIT_MS, on_event, NULL);

	CHECK(!interrupted, "%s: interrupted by a signal", why);
	CHECK(r == 0, "%s: no MR_EV_SYNC from the dataplane within %u ms: %s", why, WAIT_MS,
	      strerror(-r));
	while (mr_ring_pop(mr_shm_event_ring(T.region.hdr), &ev) == 0)
		on_event(&ev, NULL);
	return 0;
}

static bool
sockaddr_is(const struct mr_sockaddr *a, const uint8_t *ip, uint16_t port)
{
	return a->family == MR_AF_INET && memcmp(a->ip, ip, 4) == 0 &&
	       rte_be_to_cpu_16(a->port_be) == port;
}

static unsigned int
latched_events(uint32_t slot, uint8_t comp, const uint8_t *ip, uint16_t port)
{
	unsigned int i, n = 0;

	for (i = 0; i < T.n_events; i++) {
		const struct mr_event *e = &T.events[i];

		if (e->type == MR_EV_LATCHED && e->slot == slot && e->comp == comp &&
		    sockaddr_is(&e->addr, ip, port))
			n++;
	}
	return n;
}

/* --- the scenario ---------------------------------------------------------- */

static int
step_rtp(void)
{
	static uint8_t pl_ab[N_RTP][12 + RTP_PAYLOAD], pl_ba[N_RTP][12 + RTP_PAYLOAD];
	struct expect e[N_RTP];
	uint8_t f[MAX_FRAME];
	uint16_t plen = 0, flen;
	unsigned int i;

	/* A -> B: the first packet latches A; B has not sent yet, so its hint is used. */
	for (i = 0; i < N_RTP; i++) {
		plen = rtp_packet(pl_ab[i], (uint16_t)(1000u + i), 0xaaaa0001u);
		flen = udp4_frame(f, T.port_mac.addr_bytes, A_MAC, A_IP, A_PORT, RELAY_IP, RELAY_A,
				  pl_ab[i], plen);
		if (inject(f, flen, "RTP A->B") < 0)
			return -1;
		e[i] = (struct expect){ "RTP A->B", B_MAC, B_IP, RELAY_B, B_PORT, DSCP_B,
					pl_ab[i], plen };
	}
	if (expect_frames(e, N_RTP, "RTP A->B") < 0)
		return -1;
	pass("RTP A->B: %u frames relayed in order from %u to B's %u, MACs, IPs, DSCP %u, "
	     "payloads and IP/UDP checksums right", N_RTP, RELAY_B, B_PORT, DSCP_B);

	/* B -> A: latches B; goes to A's latched source. */
	for (i = 0; i < N_RTP; i++) {
		plen = rtp_packet(pl_ba[i], (uint16_t)(2000u + i), 0xbbbb0002u);
		flen = udp4_frame(f, T.port_mac.addr_bytes, B_MAC, B_IP, B_PORT, RELAY_IP, RELAY_B,
				  pl_ba[i], plen);
		if (inject(f, flen, "RTP B->A") < 0)
			return -1;
		e[i] = (struct expect){ "RTP B->A", A_MAC, A_IP, RELAY_A, A_PORT, DSCP_A,
					pl_ba[i], plen };
	}
	if (expect_frames(e, N_RTP, "RTP B->A") < 0)
		return -1;
	pass("RTP B->A: %u frames relayed in order from %u to A's %u, MACs, IPs, DSCP %u, "
	     "payloads and IP/UDP checksums right", N_RTP, RELAY_A, A_PORT, DSCP_A);
	return 0;
}

static int
step_rtcp(void)
{
	static uint8_t sr_a[28], sr_b[28];
	struct expect e;
	uint8_t f[MAX_FRAME];
	uint16_t flen;

	flen = udp4_frame(f, T.port_mac.addr_bytes, A_MAC, A_IP, A_PORT + 1, RELAY_IP, RELAY_A + 1,
			  sr_a, rtcp_sr(sr_a, 0xaaaa0001u));
	if (inject(f, flen, "RTCP A->B") < 0)
		return -1;
	e = (struct expect){ "RTCP A->B", B_MAC, B_IP, RELAY_B + 1, B_PORT + 1, DSCP_B, sr_a, 28 };
	if (expect_frames(&e, 1, "RTCP A->B") < 0)
		return -1;
	flen = udp4_frame(f, T.port_mac.addr_bytes, B_MAC, B_IP, B_PORT + 1, RELAY_IP, RELAY_B + 1,
			  sr_b, rtcp_sr(sr_b, 0xbbbb0002u));
	if (inject(f, flen, "RTCP B->A") < 0)
		return -1;
	e = (struct expect){ "RTCP B->A", A_MAC, A_IP, RELAY_A + 1, A_PORT + 1, DSCP_A, sr_b, 28 };
	if (expect_frames(&e, 1, "RTCP B->A") < 0)
		return -1;
	pass("RTCP on port+1 both ways: %u->%u:%u and %u->%u:%u, payloads and checksums right",
	     RELAY_B + 1, B_IP[3], B_PORT + 1, RELAY_A + 1, A_IP[3], A_PORT + 1);
	return 0;
}

static int
step_spoof(void)
{
	static uint8_t pl_spoof[12 + RTP_PAYLOAD], pl_ba[12 + RTP_PAYLOAD];
	struct expect e;
	uint8_t f[MAX_FRAME];
	uint16_t plen, flen;

	/* Same port as A, another address: A's leg is latched, no window is open. */
	plen = rtp_packet(pl_spoof, 6666, 0xaaaa0001u);
	flen = udp4_frame(f, T.port_mac.addr_bytes, SPOOF_MAC, SPOOF_IP, A_PORT, RELAY_IP, RELAY_A,
			  pl_spoof, plen);
	if (inject(f, flen, "spoofed RTP") < 0 ||
	    expect_drop(MR_DROP_SRC_NOT_LATCHED, 1, "spoofed source") < 0 ||
	    expect_frames(NULL, 0, "spoofed source") < 0)
		return -1;
	pass("a spoofed source (198.18.0.66:%u) after latching: dropped as src-not-latched, "
	     "nothing sent", A_PORT);

	/* The latch did not move: B's media still goes to A's real address. */
	plen = rtp_packet(pl_ba, 2100, 0xbbbb0002u);
	flen = udp4_frame(f, T.port_mac.addr_bytes, B_MAC, B_IP, B_PORT, RELAY_IP, RELAY_B,
			  pl_ba, plen);
	if (inject(f, flen, "RTP B->A after the spoof") < 0)
		return -1;
	e = (struct expect){ "RTP B->A after the spoof", A_MAC, A_IP, RELAY_A, A_PORT, DSCP_A,
			     pl_ba, plen };
	if (expect_frames(&e, 1, "RTP B->A after the spoof") < 0)
		return -1;
	pass("after the spoof, B's media still goes to A's latched 198.18.0.10:%u", A_PORT);
	return 0;
}

static int
step_unknown_and_truncated(void)
{
	uint8_t pl[12 + RTP_PAYLOAD], f[MAX_FRAME];
	uint16_t plen, flen;

	plen = rtp_packet(pl, 3000, 0xaaaa0001u);
	flen = udp4_frame(f, T.port_mac.addr_bytes, A_MAC, A_IP, A_PORT, RELAY_IP, RELAY_UNUSED,
			  pl, plen);
	if (inject(f, flen, "RTP to an unknown port") < 0 ||
	    expect_drop(MR_DROP_NO_LEG, 1, "unknown port") < 0 ||
	    expect_frames(NULL, 0, "unknown port") < 0)
		return -1;
	pass("a packet to relay port %u (in range, no leg): dropped as no-leg, nothing sent",
	     RELAY_UNUSED);

	/* A's valid RTP cut after 6 bytes of UDP header: IP total length > frame. */
	plen = rtp_packet(pl, 3001, 0xaaaa0001u);
	udp4_frame(f, T.port_mac.addr_bytes, A_MAC, A_IP, A_PORT, RELAY_IP, RELAY_B, pl, plen);
	if (inject(f, 40, "truncated frame") < 0 ||
	    expect_drop(MR_DROP_MALFORMED, 1, "truncated frame") < 0 ||
	    expect_frames(NULL, 0, "truncated frame") < 0)
		return -1;
	pass("a frame truncated to 40 bytes: dropped as malformed, nothing sent");
	return 0;
}

static int
step_counters(void)
{
	const uint64_t want_rx_a = N_RTP + 1, want_tx_a = N_RTP + 2;    /* + RTCP, + after-spoof */
	const uint64_t want_rx_b = N_RTP + 2, want_tx_b = N_RTP + 1;
	struct mr_leg_counters ca, cb;
	struct mr_leg_dp da, db;
	unsigned int r;
	uint64_t rx, tx;

	for (r = 0; r < MR_DROP_MAX; r++) {
		uint64_t want = r == MR_DROP_SRC_NOT_LATCHED || r == MR_DROP_NO_LEG ||
				r == MR_DROP_MALFORMED ? 1 : 0;

		CHECK(drops(r) == want, "drop counter %s = %" PRIu64 ", expected %" PRIu64,
		      mr_drop_name(r), drops(r), want);
	}
	pass("drop counters by reason (mr_shm_wstats rows): src-not-latched 1, no-leg 1, "
	     "malformed 1, every other reason 0");
	rx = wstat_sum(offsetof(struct mr_worker_stats, rx_pkts));
	tx = wstat_sum(offsetof(struct mr_worker_stats, tx_pkts));
	CHECK(rx == T.n_injected && tx == T.n_relayed,
	      "lcore totals rx %" PRIu64 " tx %" PRIu64 ", expected rx %u tx %u", rx, tx,
	      T.n_injected, T.n_relayed);
	CHECK(wstat_sum(offsetof(struct mr_worker_stats, punted)) == 0 &&
	      wstat_sum(offsetof(struct mr_worker_stats, handoff_out)) == 0,
	      "nothing punted or handed off");
	pass("lcore totals: rx %" PRIu64 " = frames injected, tx %" PRIu64 " = frames relayed, "
	     "nothing punted", rx, tx);

	mr_region_leg_counters(&T.region, SLOT_A, &ca);
	mr_region_leg_counters(&T.region, SLOT_B, &cb);
	CHECK(ca.rx_pkts == want_rx_a && ca.tx_pkts == want_tx_a && ca.drop_src == 1 &&
	      cb.rx_pkts == want_rx_b && cb.tx_pkts == want_tx_b && cb.drop_src == 0,
	      "leg counters A rx %" PRIu64 " tx %" PRIu64 " drop_src %" PRIu64 ", B rx %" PRIu64
	      " tx %" PRIu64 " drop_src %" PRIu64 "; expected A %" PRIu64 "/%" PRIu64
	      "/1, B %" PRIu64 "/%" PRIu64 "/0", ca.rx_pkts, ca.tx_pkts, ca.drop_src, cb.rx_pkts,
	      cb.tx_pkts, cb.drop_src, want_rx_a, want_tx_a, want_rx_b, want_tx_b);
	pass("leg counters: A rx %" PRIu64 " tx %" PRIu64 " drop_src 1, B rx %" PRIu64 " tx %" PRIu64,
	     ca.rx_pkts, ca.tx_pkts, cb.rx_pkts, cb.tx_pkts);

	CHECK(mr_region_leg_dp_read(&T.region, SLOT_A, &da) == 0 &&
	      mr_region_leg_dp_read(&T.region, SLOT_B, &db) == 0, "reading the legs' dp parts");
	CHECK(da.latch_flags == (MR_LATCHED_RTP | MR_LATCHED_RTCP) &&
	      sockaddr_is(&da.latched_rtp, A_IP, A_PORT) &&
	      sockaddr_is(&da.latched_rtcp, A_IP, A_PORT + 1) &&
	      db.latch_flags == (MR_LATCHED_RTP | MR_LATCHED_RTCP) &&
	      sockaddr_is(&db.latched_rtp, B_IP, B_PORT) &&
	      sockaddr_is(&db.latched_rtcp, B_IP, B_PORT + 1),
	      "latched sources in the region are not A's and B's real addresses");
	pass("region: A latched to 198.18.0.10:%u/%u, B to 198.18.0.11:%u/%u", A_PORT, A_PORT + 1,
	     B_PORT, B_PORT + 1);

	if (sync_dp("events") < 0)
		return -1;
	CHECK(latched_events(SLOT_A, MR_COMP_RTP, A_IP, A_PORT) == 1 &&
	      latched_events(SLOT_A, MR_COMP_RTCP, A_IP, A_PORT + 1) == 1 &&
	      latched_events(SLOT_B, MR_COMP_RTP, B_IP, B_PORT) == 1 &&
	      latched_events(SLOT_B, MR_COMP_RTCP, B_IP, B_PORT + 1) == 1,
	      "one MR_EV_LATCHED per leg and component, for the real sources");
	for (r = 0; r < T.n_events; r++)
		CHECK(T.events[r].type != MR_EV_LATCHED ||
		      !sockaddr_is(&T.events[r].addr, SPOOF_IP, A_PORT),
		      "the spoofed source was reported as latched");
	pass("events: four MR_EV_LATCHED (A, B x RTP, RTCP), none for the spoofer");
	return 0;
}

static void
leg_fill(struct mr_leg_slot *s, uint32_t egress, const uint8_t *peer_ip, uint16_t peer_port,
	 uint16_t relay_port, uint8_t dscp)
{
	memset(s, 0, sizeof(*s));
	s->call_tag = 0x72696e67ull;
	s->latch = MR_LATCH_FIRST;
	s->dscp = dscp;
	s->flags = MR_LEG_F_PSTN;               /* plain RTP is refused otherwise */
	s->egress_slot = egress;
	s->local.family = MR_AF_INET;
	memcpy(s->local.ip, RELAY_IP, 4);
	s->local.port_be = rte_cpu_to_be_16(relay_port);
	s->local_rtcp_port_be = rte_cpu_to_be_16((uint16_t)(relay_port + 1u));
	s->peer_rtp.family = MR_AF_INET;
	memcpy(s->peer_rtp.ip, peer_ip, 4);
	s->peer_rtp.port_be = rte_cpu_to_be_16(peer_port);
	s->peer_rtcp = s->peer_rtp;
	s->peer_rtcp.port_be = rte_cpu_to_be_16((uint16_t)(peer_port + 1u));
}

/* --- SRTP: a receive burst that mixes the two key generations ---------------- */

/* An AES_CM_128_HMAC_SHA1_80 key generation made from @seed. */
static struct mr_key_gen
srtp_key(uint8_t seed)
{
	struct mr_key_gen k;
	unsigned int i;

	memset(&k, 0, sizeof(k));
	k.suite = MR_SUITE_AES_CM_128_HMAC_SHA1_80;
	k.key_len = 16;
	k.salt_len = 14;
	for (i = 0; i < k.key_len; i++)
		k.key[i] = (uint8_t)(seed * 13u + i);
	for (i = 0; i < k.salt_len; i++)
		k.salt[i] = (uint8_t)(seed * 7u + i * 3u);
	return k;
}

/* RTP with @n payload bytes protected by @c into @p; its length, 0 if protect failed. */
static uint16_t
srtp_sized(uint8_t *p, struct mr_srtp_ctx *c, uint16_t seq, uint32_t ssrc, uint16_t n)
{
	uint32_t len = rtp_sized(p, seq, ssrc, n);

	return mr_srtp_protect(c, p, &len, MAX_FRAME - 42u) == 0 ? (uint16_t)len : 0;
}

/* One packet of leg C's or D's peer: the frame to inject and the frame expected out. */
struct srtp_side {
	struct mr_srtp_ctx *tx;         /* the peer's sender */
	struct mr_srtp_ctx *relay_out;  /* what the relay's protection towards the other peer gives */
	const uint8_t *mac, *ip;
	uint16_t port, relay_port;      /* the peer's and its leg's */
	const uint8_t *to_ip, *to_mac;  /* the other peer */
	uint16_t to_port, to_relay_port;
	uint8_t to_dscp;
	uint32_t ssrc;
	uint16_t payload;
};

static int
srtp_frame(struct srtp_side *sd, uint16_t seq, uint8_t *frame, uint16_t *frame_len,
	   uint8_t *want, struct expect *e, const char *what)
{
	uint8_t p[MAX_FRAME];
	uint16_t n = srtp_sized(p, sd->tx, seq, sd->ssrc, sd->payload);
	uint16_t w = srtp_sized(want, sd->relay_out, seq, sd->ssrc, sd->payload);

	CHECK(n != 0 && w != 0, "%s: libsrtp could not protect the test's packet", what);
	*frame_len = udp4_frame(frame, T.port_mac.addr_bytes, sd->mac, sd->ip, sd->port, RELAY_IP,
				sd->relay_port, p, n);
	*e = (struct expect){ what, sd->to_mac, sd->to_ip, sd->to_relay_port, sd->to_port,
			      sd->to_dscp, want, w };
	return 0;
}

static uint64_t
drops_total(void)
{
	uint64_t sum = 0;
	unsigned int r;

	for (r = 0; r < MR_DROP_MAX; r++)
		sum += drops(r);
	return sum;
}

/*
 * Leg C takes two inbound key generations (make-before-break); its peer
 * has switched to the second while the relay still tries the first one
 * first. One receive burst holds D's packets (settled on the first try)
 * around C's (settled on the second): every packet must come out whole,
 * re-protected byte for byte as libsrtp would with the egress leg's key.
 * (A packet settled on the first try was once taken up again with another
 * packet's second-try result.)
 */
static int
step_srtp_mixed_burst(void)
{
	static uint8_t frames[N_BURST_D + 2][MAX_FRAME], want[N_BURST_D + 2][MAX_FRAME];
	struct mr_key_gen kc0 = srtp_key(1), kc1 = srtp_key(2), kc_out = srtp_key(3);
	struct mr_key_gen kd = srtp_key(4), kd_out = srtp_key(5);
	struct srtp_side c = { NULL, NULL, A_MAC, A_IP, C_PORT, RELAY_C, B_IP, B_MAC, D_PORT,
			       RELAY_D, DSCP_B, SSRC_C, 100 };
	struct srtp_side d = { NULL, NULL, B_MAC, B_IP, D_PORT, RELAY_D, A_IP, A_MAC, C_PORT,
			       RELAY_C, DSCP_A, SSRC_D, 300 };
	struct mr_srtp_ctx *tx_c1 = NULL;
	struct expect e[N_BURST_D + 2];
	uint16_t lens[N_BURST_D + 2];
	struct mr_leg_slot s;
	uint64_t dropped;
	unsigned int i, n = 0;
	int r = -1;

	CHECK(mr_srtp_init() == 0, "libsrtp init");
	c.tx = mr_srtp_ctx_new(&kc0, SSRC_C, MR_SRTP_OUTBOUND, NULL);
	tx_c1 = mr_srtp_ctx_new(&kc1, SSRC_C, MR_SRTP_OUTBOUND, NULL);
	c.relay_out = mr_srtp_ctx_new(&kd_out, SSRC_C, MR_SRTP_OUTBOUND, NULL);
	d.tx = mr_srtp_ctx_new(&kd, SSRC_D, MR_SRTP_OUTBOUND, NULL);
	d.relay_out = mr_srtp_ctx_new(&kc_out, SSRC_D, MR_SRTP_OUTBOUND, NULL);
	if (c.tx == NULL || tx_c1 == NULL || c.relay_out == NULL || d.tx == NULL ||
	    d.relay_out == NULL) {
		fail("libsrtp contexts for the test's peers");
		goto out;
	}
	leg_fill(&s, SLOT_D, A_IP, C_PORT, RELAY_C, DSCP_A);
	s.flags = 0;
	s.crypto_in.gen[0] = kc0;
	s.crypto_in.gen[1] = kc1;
	s.crypto_in.active = 1;
	s.crypto_out.gen[0] = kc_out;
	if (mr_region_leg_write(&T.region, SLOT_C, &s) < 0)
		goto out;
	leg_fill(&s, SLOT_C, B_IP, D_PORT, RELAY_D, DSCP_B);
	s.flags = 0;
	s.crypto_in.gen[0] = kd;
	s.crypto_out.gen[0] = kd_out;
	if (mr_region_leg_write(&T.region, SLOT_D, &s) < 0 || sync_dp("SRTP legs C and D") < 0)
		goto out;

	/* each SSRC's first packet: its contexts are made, the first generation passes */
	if (srtp_frame(&c, 100, frames[0], &lens[0], want[0], &e[0], "SRTP C->D, first key") < 0 ||
	    inject(frames[0], lens[0], "SRTP C->D") < 0 || expect_frames(e, 1, "SRTP C->D") < 0 ||
	    srtp_frame(&d, 500, frames[0], &lens[0], want[0], &e[0], "SRTP D->C") < 0 ||
	    inject(frames[0], lens[0], "SRTP D->C") < 0 || expect_frames(e, 1, "SRTP D->C") < 0)
		goto out;
	pass("SRTP legs C and D: the first packet each way re-keyed byte for byte as libsrtp would");

	dropped = drops_total();
	if (srtp_frame(&d, 501, frames[n], &lens[n], want[n], &e[n], "mixed burst: D->C") < 0)
		goto out;
	n++;
	c.tx = tx_c1;                   /* C's peer switches to the second key */
	tx_c1 = NULL;
	for (i = 0; i < 2; i++, n++)
		if (srtp_frame(&c, (uint16_t)(101u + i), frames[n], &lens[n], want[n], &e[n],
			       "mixed burst: C->D, second key") < 0)
			goto out;
	for (i = 1; i < N_BURST_D; i++, n++)
		if (srtp_frame(&d, (uint16_t)(501u + i), frames[n], &lens[n], want[n], &e[n],
			       "mixed burst: D->C") < 0)
			goto out;
	if (inject_burst(frames, lens, n, "mixed burst") < 0 ||
	    expect_frames(e, n, "mixed burst") < 0)
		goto out;
	CHECK(drops_total() == dropped, "mixed burst: %" PRIu64 " drops", drops_total() - dropped);
	pass("one burst of %u D->C packets around 2 C->D packets under C's second key: all %u "
	     "relayed in order, each re-keyed byte for byte, no drop", N_BURST_D, n);
	r = 0;
out:
	mr_srtp_ctx_free(c.tx);
	mr_srtp_ctx_free(tx_c1);
	mr_srtp_ctx_free(c.relay_out);
	mr_srtp_ctx_free(d.tx);
	mr_srtp_ctx_free(d.relay_out);
	return r;
}

/*
 * Within one burst the route of the last packet is reused for the next one
 * to the same leg (worker.c, route_memo): a latch in between must void it.
 * F is muted, so its packet latches F on the port it really sends from and
 * goes no further (nothing else routed in between); E -> F goes to F's
 * signaled port before that packet and to the latched one right after it,
 * in the same burst.
 */
static int
step_route_after_latch_in_burst(void)
{
	static uint8_t frames[3][MAX_FRAME], pl[3][12 + RTP_PAYLOAD];
	struct expect e[2];
	uint16_t lens[3], plen;
	struct mr_leg_slot s;
	uint64_t muted = drops(MR_DROP_MUTED);

	leg_fill(&s, SLOT_F, A_IP, E_PORT, RELAY_E, DSCP_A);
	CHECK(mr_region_leg_write(&T.region, SLOT_E, &s) == 0, "writing leg E");
	leg_fill(&s, SLOT_E, B_IP, F_HINT_PORT, RELAY_F, DSCP_B);
	s.flags |= MR_LEG_F_MUTED;
	CHECK(mr_region_leg_write(&T.region, SLOT_F, &s) == 0, "writing leg F");
	if (sync_dp("legs E and F") < 0)
		return -1;
	plen = rtp_packet(pl[0], 7000, 0xeeee0005u);
	lens[0] = udp4_frame(frames[0], T.port_mac.addr_bytes, A_MAC, A_IP, E_PORT, RELAY_IP, RELAY_E,
			     pl[0], plen);
	e[0] = (struct expect){ "E->F before F latched", B_MAC, B_IP, RELAY_F, F_HINT_PORT, DSCP_B,
				pl[0], plen };
	plen = rtp_packet(pl[1], 8000, 0xffff0006u);
	lens[1] = udp4_frame(frames[1], T.port_mac.addr_bytes, B_MAC, B_IP, F_PORT, RELAY_IP, RELAY_F,
			     pl[1], plen);
	plen = rtp_packet(pl[2], 7001, 0xeeee0005u);
	lens[2] = udp4_frame(frames[2], T.port_mac.addr_bytes, A_MAC, A_IP, E_PORT, RELAY_IP, RELAY_E,
			     pl[2], plen);
	e[1] = (struct expect){ "E->F after F latched, same burst", B_MAC, B_IP, RELAY_F, F_PORT,
				DSCP_B, pl[2], plen };
	if (inject_burst(frames, lens, 3, "E/F burst") < 0 || expect_frames(e, 2, "E/F burst") < 0)
		return -1;
	CHECK(drops(MR_DROP_MUTED) == muted + 1, "E/F burst: muted drops %" PRIu64 ", expected %" PRIu64,
	      drops(MR_DROP_MUTED), muted + 1);
	pass("one burst E->F, F->E (muted F: latches on :%u, dropped), E->F: the first to F's "
	     "signaled :%u, the second to :%u", F_PORT, F_HINT_PORT, F_PORT);
	return 0;
}

/* --- slots the dataplane refuses ------------------------------------------ */

/*
 * What a writer that skips region.c's checks (a bug, a stray write into the
 * mapping) leaves: @mutate applied to slot @slot in place, under its
 * seqlock, and announced as any change is.
 */
static void
corrupt_slot(uint32_t slot, void (*mutate)(struct mr_leg_slot *s))
{
	struct mr_leg_slot *s = mr_shm_slot(T.region.hdr, slot);
	struct mr_cmd c = { .op = MR_CMD_LEG_SET, .slot = slot };

	mr_seq_write_begin(&s->seq);
	mutate(s);
	c.generation = ++s->generation;
	mr_seq_write_end(&s->seq);
	if (mr_ring_push(mr_shm_cmd_ring(T.region.hdr), &c) < 0)
		__atomic_add_fetch(&T.region.hdr->resync_req, 1u, __ATOMIC_RELEASE);
}

static void
bad_suite(struct mr_leg_slot *s)
{
	s->crypto_out.gen[0].suite = 200;
}

static void
key_too_short(struct mr_leg_slot *s)
{
	s->crypto_in.gen[0].suite = MR_SUITE_AES_CM_128_HMAC_SHA1_80;
	s->crypto_in.gen[0].key_len = 5;
	s->crypto_in.gen[0].salt_len = 14;
}

static void
unknown_flag(struct mr_leg_slot *s)
{
	s->flags |= 1u << 7;
}

static void
bad_latch(struct mr_leg_slot *s)
{
	s->latch = MR_LATCH_MAX;
}

static void
egress_out_of_range(struct mr_leg_slot *s)
{
	s->egress_slot = T.region.hdr->max_legs + 5u;
}

/*
 * One RTP packet from A to leg G on relay port @relay_port: relayed back to
 * A (@drop < 0), or dropped with reason @drop and nothing sent.
 */
static int
g_packet_at(uint16_t relay_port, int drop, uint16_t seq, const char *what)
{
	static uint8_t pl[12 + RTP_PAYLOAD];
	uint8_t f[MAX_FRAME];
	uint64_t before = drop < 0 ? 0 : drops((unsigned int)drop);
	uint16_t plen = rtp_packet(pl, seq, 0x99990007u), flen;
	struct expect e = { what, A_MAC, A_IP, relay_port, G_PORT, DSCP_G, pl, plen };

	flen = udp4_frame(f, T.port_mac.addr_bytes, A_MAC, A_IP, G_PORT, RELAY_IP, relay_port, pl,
			  plen);
	if (inject(f, flen, what) < 0)
		return -1;
	if (drop < 0)
		return expect_frames(&e, 1, what);
	if (expect_drop((unsigned int)drop, before + 1, what) < 0)
		return -1;
	return expect_frames(NULL, 0, what);
}

/* Relayed back to A, or dropped as no-leg. */
static int
g_packet(bool relayed, uint16_t seq, const char *what)
{
	return g_packet_at(RELAY_G, relayed ? -1 : MR_DROP_NO_LEG, seq, what);
}

/* A PSTN leg G (plain RTP allowed) on @relay_port and the next, relaying to @egress. */
static int
write_leg_g_at(uint16_t relay_port, uint32_t egress, const char *what)
{
	struct mr_leg_slot s;

	leg_fill(&s, egress, A_IP, G_PORT, relay_port, DSCP_G);
	CHECK(mr_region_leg_write(&T.region, SLOT_G, &s) == 0, "%s: writing leg G", what);
	return sync_dp(what);
}

/* Leg G on RELAY_G, written as region.c writes it. */
static int
write_leg_g(const char *what)
{
	return write_leg_g_at(RELAY_G, SLOT_G, what);
}

/*
 * Encryption is never optional: a slot without keys and without the PSTN
 * mark is refused by the dataplane itself, whoever wrote it. So is a slot
 * a writer corrupted past region.c's checks. Each refusal leaves no flow
 * (the port answers as one without a leg), the dataplane running, and the
 * slot usable by the next good write.
 */
static int
step_refused_slots(void)
{
	static const struct {
		void (*mutate)(struct mr_leg_slot *s);
		const char *what;
	} bad[] = {
		{ bad_suite, "an outbound key of an unknown suite" },
		{ key_too_short, "an inbound AES-CM key of 5 bytes" },
		{ unknown_flag, "an unknown flag" },
		{ bad_latch, "an unknown latch policy" },
		{ egress_out_of_range, "an egress slot past the table" },
	};
	struct mr_leg_slot s;
	uint16_t seq = 9000;
	unsigned int i;

	leg_fill(&s, SLOT_G, A_IP, G_PORT, RELAY_G, DSCP_G);
	s.flags &= ~MR_LEG_F_PSTN;
	CHECK(mr_region_leg_write(&T.region, SLOT_G, &s) == 0, "writing plain leg G without PSTN");
	if (sync_dp("plain leg G without PSTN") < 0 ||
	    g_packet(false, seq++, "plain RTP to a leg not marked PSTN") < 0)
		return -1;
	pass("a plain-RTP slot without the PSTN mark: refused, its port answers as no-leg");
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (write_leg_g(bad[i].what) < 0 || g_packet(true, seq++, "leg G relays") < 0)
			return -1;
		corrupt_slot(SLOT_G, bad[i].mutate);
		if (sync_dp(bad[i].what) < 0 || g_packet(false, seq++, bad[i].what) < 0)
			return -1;
		pass("slot corrupted with %s: the flow goes, its port answers as no-leg", bad[i].what);
	}
	if (write_leg_g("leg G again") < 0 || g_packet(true, seq++, "leg G again") < 0)
		return -1;
	pass("after every refusal the slot takes a good leg again, which relays");
	/*
	 * The leg moves up one port: its new RTP port is its old RTCP one. The
	 * old flow's keys go, but not that one, which leads to the new flow now.
	 * No egress: a leg that is its own egress is rebuilt once more after
	 * each change, which would put a wrongly deleted key back.
	 */
	if (write_leg_g_at(RELAY_G, MR_LEG_NONE, "leg G without egress") < 0 ||
	    g_packet_at(RELAY_G, MR_DROP_NO_EGRESS, seq++, "leg G without egress") < 0 ||
	    write_leg_g_at(RELAY_G + 1, MR_LEG_NONE, "leg G moved onto its RTCP port") < 0 ||
	    g_packet_at(RELAY_G + 1, MR_DROP_NO_EGRESS, seq++, "leg G on its old RTCP port") < 0 ||
	    g_packet_at(RELAY_G, MR_DROP_NO_LEG, seq++, "leg G's old RTP port") < 0)
		return -1;
	CHECK(mr_region_leg_delete(&T.region, SLOT_G) == 0, "deleting leg G");
	if (sync_dp("leg G deleted") < 0)
		return -1;
	pass("leg G moved from :%u/%u to :%u/%u is found on :%u (no-egress), :%u has no leg",
	     RELAY_G, RELAY_G + 1, RELAY_G + 1, RELAY_G + 2, RELAY_G + 1, RELAY_G);
	return 0;
}

/* Random bytes of a slot's body (from leg_uid on) changed, as a stray write would. */
#define N_CORRUPT 300u

static uint64_t corrupt_rng = 0x72696e672d72656cull;

static void
random_bytes(struct mr_leg_slot *s)
{
	const size_t from = offsetof(struct mr_leg_slot, leg_uid);
	uint8_t *b = (uint8_t *)s;
	unsigned int k, n = 1u + (unsigned int)(mr_test_xorshift(&corrupt_rng) % 4u);

	for (k = 0; k < n; k++) {
		uint64_t r = mr_test_xorshift(&corrupt_rng);

		b[from + r % (sizeof(*s) - from)] = (uint8_t)(r >> 32);
	}
}

/*
 * Wait until the worker has received every injected frame and finished the
 * loop it did so in (its TX flushed): what it sends for them is out then.
 */
static int
worker_settled(const char *what)
{
	uint64_t deadline = now_ms() + WAIT_MS, loops;

	while (wstat_sum(offsetof(struct mr_worker_stats, rx_pkts)) < T.n_injected &&
	       now_ms() < deadline && !interrupted)
		sleep_ms(1);
	CHECK(wstat_sum(offsetof(struct mr_worker_stats, rx_pkts)) >= T.n_injected,
	      "%s: the worker did not take the frames within %u ms", what, WAIT_MS);
	loops = wstat_sum(offsetof(struct mr_worker_stats, loops));
	while (wstat_sum(offsetof(struct mr_worker_stats, loops)) < loops + 2 &&
	       now_ms() < deadline && !interrupted)
		sleep_ms(1);
	return 0;
}

/*
 * Whatever corrupted legs sent so far (at most one frame per injected
 * packet): into the pcap for the tshark check, counted as relayed. Waits
 * @linger_ms for stragglers.
 */
static int
take_any(unsigned int linger_ms, unsigned int *total)
{
	static uint8_t out[MAX_OUT][MAX_FRAME];
	static uint16_t out_len[MAX_OUT];
	unsigned int got = collect(out, out_len, 0, 0, linger_ms), i;

	CHECK(got <= MAX_OUT, "%u frames at once from corrupted legs, more than %u", got, MAX_OUT);
	for (i = 0; i < got; i++) {
		CHECK(out_len[i] >= 42u, "a corrupted leg sent a %u-byte frame", out_len[i]);
#ifdef RING_RELAY_PCAP
		pcap_record(out[i], out_len[i]);
#endif
	}
	T.n_relayed += got;
	*total += got;
	return 0;
}

/*
 * A good leg G corrupted at random, N_CORRUPT times, a packet to it after
 * each: whatever the bytes, the dataplane applies or refuses the slot and
 * answers the next sync (no crash, no hang), what it sends has good
 * checksums (the tshark check at the end counts these frames too), and
 * the good leg written next relays again (no state lost on the way).
 */
static int
step_corrupt_random(void)
{
	static uint8_t pl[12 + RTP_PAYLOAD];
	uint8_t f[MAX_FRAME];
	uint16_t plen, flen;
	unsigned int i, sent = 0;

	for (i = 0; i < N_CORRUPT; i++) {
		/* The good leg relays again, whatever the last corruption left. */
		if (write_leg_g("leg G before a random corruption") < 0 || take_any(0, &sent) < 0 ||
		    g_packet(true, (uint16_t)(30000u + i), "leg G rewritten after a corruption") < 0)
			return -1;
		corrupt_slot(SLOT_G, random_bytes);
		CHECK(sync_dp("a randomly corrupted slot") == 0,
		      "corruption %u: the dataplane no longer answers", i);
		plen = rtp_packet(pl, (uint16_t)(10000u + i), 0x99990008u);
		flen = udp4_frame(f, T.port_mac.addr_bytes, A_MAC, A_IP, G_PORT, RELAY_IP, RELAY_G,
				  pl, plen);
		if (inject(f, flen, "RTP to a randomly corrupted leg") < 0 ||
		    worker_settled("RTP to a randomly corrupted leg") < 0)
			return -1;
	}
	if (take_any(QUIET_MS, &sent) < 0)
		return -1;
	if (write_leg_g("leg G after the corruptions") < 0 ||
	    g_packet(true, 20000, "leg G after the corruptions") < 0)
		return -1;
	CHECK(mr_region_leg_delete(&T.region, SLOT_G) == 0, "deleting leg G");
	if (sync_dp("leg G deleted") < 0)
		return -1;
	pass("%u random corruptions of leg G's slot: each applied or refused, the dataplane "
	     "answering, %u frames sent from them; after each a good leg G relays again",
	     N_CORRUPT, sent);
	return 0;
}

/* The test, on a plain pthread while the main lcore runs management. */
static void *
test_main(void *arg)
{
	uint64_t deadline = now_ms() + WAIT_MS;

	(void)arg;
	while (__atomic_load_n(&T.region.hdr->dp_state, __ATOMIC_ACQUIRE) != MR_DP_RUNNING &&
	       now_ms() < deadline && !interrupted)
		sleep_ms(1);
	if (__atomic_load_n(&T.region.hdr->dp_state, __ATOMIC_ACQUIRE) != MR_DP_RUNNING) {
		fail("the management loop did not start within %u ms", WAIT_MS);
	} else if (sync_dp("start") == 0) {
		pass("dataplane running; the legs' commands applied (MR_EV_SYNC)");
		if (step_rtp() == 0 && step_rtcp() == 0 && step_spoof() == 0 &&
		    step_unknown_and_truncated() == 0 &&
		    expect_frames(NULL, 0, "the end") == 0) {
			pass("exactly %u frames relayed for %u injected, nothing else sent",
			     T.n_relayed, T.n_injected);
			if (step_counters() == 0)
				if (step_srtp_mixed_burst() == 0 &&
				    step_route_after_latch_in_burst() == 0 &&
				    step_refused_slots() == 0)
					step_corrupt_random();
		}
	}
	mr_dp.quit = true;
	return NULL;
}

/* --- set-up and tear-down -------------------------------------------------- */

static int
ring_port(void)
{
	int port;

	T.rx = rte_ring_create("rr_rx", RING_SIZE, (int)rte_socket_id(),
			       RING_F_SP_ENQ | RING_F_SC_DEQ);
	T.tx = rte_ring_create("rr_tx", RING_SIZE, (int)rte_socket_id(),
			       RING_F_SP_ENQ | RING_F_SC_DEQ);
	T.pool = rte_pktmbuf_pool_create("rr_inject", 511, 0, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
					 (int)rte_socket_id());
	if (T.rx == NULL || T.tx == NULL || T.pool == NULL)
		return -ENOMEM;
	/* Named "net_ring_rr": the configuration's device. */
	port = rte_eth_from_rings("rr", &T.rx, 1, &T.tx, 1, rte_socket_id());
	if (port < 0)
		return -ENODEV;
	T.port_id = (uint16_t)port;
	return 0;
}

static int
region_prepare(void)
{
	struct mr_leg_slot s;
	int r;

	r = mr_region_open(&T.region, T.region_path, true, 64, 1);
	if (r == 0)
		r = mr_region_lock(&T.region);
	if (r == 0) {
		leg_fill(&s, SLOT_B, A_IP, A_PORT, RELAY_A, DSCP_A);
		r = mr_region_leg_write(&T.region, SLOT_A, &s);
	}
	if (r == 0) {
		leg_fill(&s, SLOT_A, B_IP, B_PORT, RELAY_B, DSCP_B);
		r = mr_region_leg_write(&T.region, SLOT_B, &s);
	}
	return r;
}

static int
write_config(void)
{
	FILE *f = fopen(T.conf_path, "w");

	if (f == NULL)
		return -errno;
	fprintf(f,
		"# Written by tests/dp/ring_relay for one run, removed after it.\n"
		"region = \"%s\";\n"
		"ports = ( {\n"
		"\tname = \"ring\";\n"
		"\tdevice = \"net_ring_rr\";\n"
		"\taddresses = [ \"198.18.0.2/24\" ];\n"
		"} );\n"
		"relay = { port_min = 30000; port_max = 30199; };\n"
		"workers = [ %u ];\n"
		"idle_backoff_us = 100;\n"
		"mbufs = 2047;\n"
		"timeouts = { latch_window_ms = 0; relatch_idle_ms = 600000; };\n"
		"neighbours = (\n"
		"\t{ ip = \"198.18.0.10\"; mac = \"02:00:00:00:00:0a\"; port = \"ring\"; },\n"
		"\t{ ip = \"198.18.0.11\"; mac = \"02:00:00:00:00:0b\"; port = \"ring\"; }\n"
		");\n", T.region_path, WORKER_LCORE);
	return fclose(f) == 0 ? 0 : -errno;
}

static int
check_config(void)
{
	const struct mr_dp_config *c = &mr_dp.cfg;
	char err[512];
	int r;

	r = write_config();
	CHECK(r == 0, "writing %s: %s", T.conf_path, strerror(-r));
	r = mr_config_load(T.conf_path, &mr_dp.cfg, err, sizeof(err));
	CHECK(r == 0, "mr_config_load: %s", err);
	CHECK(strcmp(c->region, T.region_path) == 0 && c->n_ports == 1 &&
	      strcmp(c->ports[0].device, "net_ring_rr") == 0 && c->ports[0].n_addrs == 1 &&
	      c->ports[0].addrs[0].prefix_len == 24 && c->port_min == 30000 &&
	      c->port_max == 30199 && c->n_workers == 1 && c->workers[0] == WORKER_LCORE &&
	      c->latch_window_ms == 0 && c->relatch_idle_ms == 600000 && c->n_neigh == 2 &&
	      memcmp(c->neigh[0].mac, A_MAC, 6) == 0 && memcmp(c->neigh[1].mac, B_MAC, 6) == 0 &&
	      sockaddr_is(&c->neigh[1].ip, B_IP, 0) && c->neigh[1].port == 0,
	      "the loaded configuration does not say what the file says");
	pass("configuration file loaded by mr_config_load (port, relay range, worker, "
	     "timeouts, two static neighbours)");
	return 0;
}

#ifdef RING_RELAY_PCAP
static int
pcap_start(void)
{
	T.pcap = pcap_open_dead(DLT_EN10MB, 65535);
	CHECK(T.pcap != NULL, "pcap_open_dead failed");
	T.dumper = pcap_dump_open(T.pcap, T.pcap_path);
	CHECK(T.dumper != NULL, "pcap_dump_open %s: %s", T.pcap_path, pcap_geterr(T.pcap));
	return 0;
}

static void
pcap_stop(void)
{
	if (T.dumper != NULL)
		pcap_dump_close(T.dumper);
	if (T.pcap != NULL)
		pcap_close(T.pcap);
	T.dumper = NULL;
	T.pcap = NULL;
}

/* tshark validates every relayed frame's IPv4 and UDP checksum. */
static int
check_tshark(void)
{
	char cmd[512], line[256], errp[128];
	unsigned int rows = 0, good = 0;
	FILE *p;
	int st;

	if (system("command -v tshark >/dev/null 2>&1") != 0) {
		printf("# SKIP tshark check: tshark not found in PATH (install tshark to run it)\n");
		return 0;
	}
	snprintf(errp, sizeof(errp), "%s/tshark.err", T.dir);
	snprintf(cmd, sizeof(cmd),
		 "tshark -r '%s' -o ip.check_checksum:TRUE -o udp.check_checksum:TRUE "
		 "-T fields -e ip.checksum.status -e udp.checksum.status 2>'%s'",
		 T.pcap_path, errp);
	p = popen(cmd, "r");
	CHECK(p != NULL, "popen tshark: %s", strerror(errno));
	while (fgets(line, sizeof(line), p) != NULL) {
		line[strcspn(line, "\r\n")] = '\0';
		rows++;
		if (strcmp(line, "1\t1") == 0)
			good++;
		else
			printf("# tshark row %u: \"%s\" (ip.checksum.status, udp.checksum.status; "
			       "1 = good)\n", rows, line);
	}
	st = pclose(p);
	if (st != 0) {
		FILE *e = fopen(errp, "r");

		while (e != NULL && fgets(line, sizeof(line), e) != NULL)
			printf("# tshark: %s", line);
		if (e != NULL)
			fclose(e);
	}
	unlink(errp);
	CHECK(st == 0, "tshark -r %s exited with status %d", T.pcap_path, st);
	CHECK(rows == T.n_relayed && good == rows,
	      "tshark: %u of %u rows with good IP and UDP checksums, %u frames relayed", good,
	      rows, T.n_relayed);
	pass("tshark (ip/udp.check_checksum on) reads %u frames, every IP and UDP checksum good",
	     rows);
	return 0;
}
#endif

static void
on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
	mr_dp.quit = true;
}

/* The value of EAL's --file-prefix in @argv ("rte" when absent). */
static const char *
file_prefix(int argc, char **argv)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--file-prefix") == 0 && i + 1 < argc)
			return argv[i + 1];
		if (strncmp(argv[i], "--file-prefix=", 14) == 0)
			return argv[i] + 14;
	}
	return "rte";
}

/*
 * EAL refuses to start while another primary process holds the lock on its
 * runtime directory's config file: another run of this test (the prefix is
 * fixed by meson, and every build directory runs it). Wait for it to end,
 * up to EAL_WAIT_MS, by asking for the lock without taking it (F_GETLK).
 */
static void
wait_for_prefix(const char *prefix)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	struct flock fl;
	char path[512];
	uint64_t deadline = now_ms() + EAL_WAIT_MS;
	bool said = false;
	int fd;

	if (getuid() == 0 || xdg == NULL)
		snprintf(path, sizeof(path), "%s/dpdk/%s/config",
			 getuid() == 0 ? "/var/run" : "/tmp", prefix);
	else
		snprintf(path, sizeof(path), "%s/dpdk/%s/config", xdg, prefix);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;                 /* never used, or not readable: EAL will tell */
	while (now_ms() < deadline && !interrupted) {
		memset(&fl, 0, sizeof(fl));
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		if (fcntl(fd, F_GETLK, &fl) < 0 || fl.l_type == F_UNLCK)
			break;
		if (!said) {
			printf("# EAL file prefix %s is held by pid %d; waiting up to %u s\n",
			       prefix, (int)fl.l_pid, EAL_WAIT_MS / 1000u);
			said = true;
		}
		sleep_ms(50);
	}
	close(fd);
}

int
main(int argc, char **argv)
{
	pthread_t thr;
	bool eal_up = false, dp_up = false, region_up = false;
	int r;

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	snprintf(T.dir, sizeof(T.dir), "/tmp/ring-relay.XXXXXX");
	if (mkdtemp(T.dir) == NULL) {
		printf("not ok - mkdtemp: %s\n", strerror(errno));
		return 1;
	}
	snprintf(T.region_path, sizeof(T.region_path), "%s/region", T.dir);
	snprintf(T.conf_path, sizeof(T.conf_path), "%s/mrelay-dp.conf", T.dir);
	snprintf(T.pcap_path, sizeof(T.pcap_path), "%s/relayed.pcap", T.dir);
	T.region.lock_fd = -1;

	wait_for_prefix(file_prefix(argc, argv));
	if (rte_eal_init(argc, argv) < 0) {
		fail("rte_eal_init failed (rte_errno %d: %s); expected EAL args --no-huge -m 512 "
		     "--no-pci --file-prefix ring-relay -l 0,1, and no other process using the prefix",
		     rte_errno, rte_strerror(rte_errno));
		goto out;
	}
	eal_up = true;
	if (rte_lcore_count() < 2 || !rte_lcore_is_enabled(WORKER_LCORE) ||
	    rte_get_main_lcore() == WORKER_LCORE) {
		fail("EAL needs lcores 0 (main, management) and 1 (worker): -l 0,1");
		goto out;
	}
	r = ring_port();
	if (r < 0) {
		fail("net_ring port from two rings: %s", strerror(-r));
		goto out;
	}
	rte_eth_macaddr_get(T.port_id, &T.port_mac);
	pass("net_ring port %u from rings rr_rx/rr_tx, MAC " RTE_ETHER_ADDR_PRT_FMT, T.port_id,
	     RTE_ETHER_ADDR_BYTES(&T.port_mac));
	r = region_prepare();
	region_up = T.region.hdr != NULL;
	if (r < 0) {
		fail("region %s with two legs: %s", T.region_path, strerror(-r));
		goto out;
	}
	pass("region %s: legs %u (A) and %u (B) written, paired, PSTN, latch first", T.region_path,
	     SLOT_A, SLOT_B);
	if (check_config() < 0)
		goto out;
#ifdef RING_RELAY_PCAP
	if (pcap_start() < 0)
		goto out;
#endif
	r = mr_dp_setup(&mr_dp, 0);
	dp_up = true;                   /* teardown copes with a half set-up */
	if (r == 0)
		r = mr_dp_launch_workers(&mr_dp);
	if (r < 0) {
		fail("dataplane set-up: %s", strerror(-r));
		goto out;
	}
	/* The port's MAC as the dataplane reads it: what it must put in frames. */
	rte_eth_macaddr_get(T.port_id, &T.port_mac);
	pass("mr_dp_setup + mr_dp_launch_workers: %u worker on lcore %u", mr_dp.n_workers,
	     mr_dp.workers[0].lcore);

	r = pthread_create(&thr, NULL, test_main, NULL);
	if (r != 0) {
		fail("pthread_create: %s", strerror(r));
		goto out;
	}
	r = mr_mgmt_loop(&mr_dp);
	mr_dp.quit = true;
	pthread_join(thr, NULL);
	if (r < 0)
		fail("mr_mgmt_loop: %s", strerror(-r));
	if (interrupted && T.status == 0)
		fail("interrupted by a signal");
out:
	if (dp_up)
		mr_dp_teardown(&mr_dp);
	if (region_up)
		mr_region_close(&T.region);
	if (eal_up)
		rte_eal_cleanup();
#ifdef RING_RELAY_PCAP
	pcap_stop();
	if (T.status == 0)
		check_tshark();
#else
	printf("# SKIP tshark check: built without libpcap (pcap_dep not found); "
	       "frames were checked in C only\n");
#endif
	unlink(T.pcap_path);
	unlink(T.conf_path);
	unlink(T.region_path);
	if (rmdir(T.dir) != 0)
		printf("# could not remove %s: %s\n", T.dir, strerror(errno));
	if (T.status != 0) {
		printf("FAIL: ring-relay (%u checks, the last one failed)\n", T.n_checks);
		return 1;
	}
	printf("PASS: ring-relay, %u checks\n", T.n_checks);
	return 0;
}
