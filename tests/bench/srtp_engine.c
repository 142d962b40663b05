/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench_srtp_engine: the cost of SRTP in the burst engine (srtp_mb.h)
 * beside what bounds it, measured in the same run, on one CPU:
 *
 *  (a) engine: mr_smb_run() in bursts of 32, per suite, RTP payload size,
 *      operation (protect, unprotect, verify) and context count (1, and
 *      100,000 with each burst spread over 32 of them: cache effects);
 *  (b) raw:    intel-ipsec-mb doing exactly the cipher and auth work of
 *      (a) on the same buffers with the same keys, through the same calls
 *      (AES-CTR and HMAC-SHA1 cipher and hash bursts of 32, AES-GCM
 *      direct), and nothing else (no parsing, IV, replay, tag compare):
 *      the "crypto limit"; (a)/(b) is what the engine adds;
 *  (c) libsrtp: the wrapper (srtp.c) one packet at a time;
 *  (d) AES-128-CTR + HMAC-SHA1-80 and AES-128-GCM on 200-byte buffers in
 *      bursts of 32: intel-ipsec-mb's job manager against the calls of
 *      (b), and DPDK cryptodev crypto_aesni_mb (dpdk-test-crypto-perf,
 *      throughput test) on the same work.
 *
 * Figures are CPU nanoseconds per packet of this thread
 * (CLOCK_THREAD_CPUTIME_ID) and Mpps per CPU-second: the machines are
 * shared, so wall time says little. Each figure is the median of --repeat
 * runs. Unprotect and verify use packets protected beforehand (outside the
 * timing; a pass over them ends when they are used up and the receiving
 * contexts are reset, also outside the timing). Prints, never asserts.
 *
 * Usage: bench_srtp_engine [--suites all|N,N] [--sizes 200,1200]
 *          [--contexts 1,100000] [--seconds 0.3] [--repeat 3] [--cpu 1]
 *          [--no-libsrtp] [--libsrtp-max-contexts 10000] [--hugepages]
 *          [--crypto-perf PATH | --no-crypto-perf] [--other-cpu 0]
 *
 * --hugepages puts the engine's contexts (mr_smb_set_allocator()) and the
 * packets in memory advised for transparent huge pages, as mrelay-dp would
 * with rte_malloc(): with many contexts, page walks are a large part of
 * the cost on a virtual machine.
 *
 * libsrtp on NSS (Debian's build) is not measured with more contexts than
 * --libsrtp-max-contexts: NSS's softoken keeps its session objects in a list
 * walked on each new one, so making 100,000 libsrtp contexts takes tens of
 * minutes (94% of the time in libsoftokn3).
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <srtp2/srtp.h>

#include "raw_crypto.h"
#include "runner.h"
#include "smb_engine.h"
#include "srtp.h"
#include "srtp_mb.h"

#define BURST 32u
#define PKT_ROOM 1536u
#define MAX_LIST 8u
#define MAX_REPEAT 9u
#define SPREAD_STRIDE 7919u     /* prime: bursts hop across contexts */
#define STOCK_MIN 512u          /* packets per pass with few contexts (fits in L2) */
#define STOCK_BYTES_MAX (320u << 20)

static const char *const op_name[BENCH_RAW_N] = { "protect", "unprotect", "verify" };

struct opts {
	uint8_t suites[MR_SUITE_MAX];
	unsigned int n_suites;
	uint32_t sizes[MAX_LIST];
	unsigned int n_sizes;
	uint32_t ctxs[MAX_LIST];
	unsigned int n_ctxs;
	double seconds;
	unsigned int repeat;
	int cpu, other_cpu;
	bool libsrtp;
	uint32_t libsrtp_max;           /* more contexts: libsrtp not measured */
	bool huge;                      /* contexts and packets in transparent huge pages */
	const char *crypto_perf;
};

/* One suite x size x context count. */
struct bcase {
	uint8_t suite;
	uint32_t size;                  /* RTP payload bytes */
	uint32_t plen;                  /* RTP packet before protection */
	uint32_t slen;                  /* after */
	uint32_t nctx;
	struct mr_smb_ctx **out, **in;
	struct smb_state *out_st0, *in_st0;     /* states to reset to */
	struct mr_srtp_ctx **wout, **win;
	uint32_t *seq;                  /* per outbound context: last sent */
	uint32_t nstock;
	uint8_t *stock;                 /* nstock protected packets, PKT_ROOM apart */
	uint32_t *stock_ctx;            /* packet -> context */
};

static struct mr_smb_engine *eng;
static bool use_huge;

/*
 * --hugepages: one arena advised for transparent huge pages, bump-allocated
 * and reset between cases (every context of a case is freed at its end).
 */
static struct {
	char *base;
	size_t size, used;
} arena;

#define ARENA_BYTES (3ull << 30)

static void *
arena_alloc(size_t align, size_t size)
{
	size_t off = (arena.used + align - 1) & ~(align - 1);

	if (off + size > arena.size)
		return NULL;
	arena.used = off + size;
	return arena.base + off;
}

static void
arena_release(void *p, size_t size)
{
	(void)p;
	(void)size;
}

static int
arena_init(void)
{
	arena.size = ARENA_BYTES;
	arena.base = mmap(NULL, arena.size, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (arena.base == MAP_FAILED)
		return -errno;
	(void)madvise(arena.base, arena.size, MADV_HUGEPAGE);
	mr_smb_set_allocator(arena_alloc, arena_release);
	return 0;
}

/* Packets: from the arena with --hugepages, else the C library. */
static void *
big_alloc(size_t size)
{
	return use_huge ? arena_alloc(64, size) : aligned_alloc(64, (size + 63) & ~(size_t)63);
}

static void
big_free(void *p)
{
	if (!use_huge)
		free(p);
}
static uint8_t bufs[BURST][PKT_ROOM] __attribute__((aligned(64)));
static uint8_t scratch[BURST][PKT_ROOM] __attribute__((aligned(64)));

static void
wr_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t
ssrc_of(uint32_t c)
{
	return 0x10000000u + c;
}

static struct mr_key_gen
key_of(uint8_t suite, uint32_t c)
{
	const struct mr_srtp_suite_info *si = mr_srtp_suite(suite);
	struct mr_key_gen k;
	unsigned int i;

	memset(&k, 0, sizeof(k));
	k.suite = suite;
	k.key_len = si->key_len;
	k.salt_len = si->salt_len;
	for (i = 0; i < k.key_len; i++)
		k.key[i] = (uint8_t)(c * 7u + i * 13u + 1u);
	for (i = 0; i < k.salt_len; i++)
		k.salt[i] = (uint8_t)(c ^ (0xa0 + i));
	return k;
}

static void
rtp_hdr(uint8_t *p, uint32_t ssrc, uint16_t seq)
{
	p[0] = 0x80;
	p[1] = 96;
	p[2] = (uint8_t)(seq >> 8);
	p[3] = (uint8_t)seq;
	wr_be32(p + 4, seq * 960u);
	wr_be32(p + 8, ssrc);
}

static double
median(double *v, unsigned int n)
{
	qsort(v, n, sizeof(*v), bench_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* ---- set-up ------------------------------------------------------------ */

static int
case_init(struct bcase *c, uint8_t suite, uint32_t size, uint32_t nctx)
{
	const struct mr_srtp_suite_info *si = mr_srtp_suite(suite);
	uint32_t i, per;
	struct mr_key_gen k;

	memset(c, 0, sizeof(*c));
	c->suite = suite;
	c->size = size;
	c->plen = 12 + size;
	c->slen = c->plen + si->rtp_tag_len;
	c->nctx = nctx;
	c->out = calloc(nctx, sizeof(*c->out));
	c->in = calloc(nctx, sizeof(*c->in));
	c->out_st0 = calloc(nctx, sizeof(*c->out_st0));
	c->in_st0 = calloc(nctx, sizeof(*c->in_st0));
	c->seq = calloc(nctx, sizeof(*c->seq));
	if (!c->out || !c->in || !c->out_st0 || !c->in_st0 || !c->seq)
		return -ENOMEM;
	for (i = 0; i < nctx; i++) {
		k = key_of(suite, i);
		c->out[i] = mr_smb_ctx_new(&k, ssrc_of(i), MR_SRTP_OUTBOUND, NULL);
		c->in[i] = mr_smb_ctx_new(&k, ssrc_of(i), MR_SRTP_INBOUND, NULL);
		if (c->out[i] == NULL || c->in[i] == NULL)
			return -ENOMEM;
		c->out_st0[i] = c->out[i]->st;
		c->in_st0[i] = c->in[i]->st;
		c->seq[i] = 1000;
	}
	/* packets for unprotect/verify: a whole number of bursts, each context in turn */
	per = nctx >= STOCK_MIN ? 1u : (STOCK_MIN + nctx - 1) / nctx;
	if ((uint64_t)nctx * per * PKT_ROOM > STOCK_BYTES_MAX)
		per = 1;
	c->nstock = nctx * per;
	if ((uint64_t)c->nstock * PKT_ROOM > STOCK_BYTES_MAX)
		c->nstock = STOCK_BYTES_MAX / PKT_ROOM;
	c->nstock -= c->nstock % BURST;
	c->stock = big_alloc((size_t)c->nstock * PKT_ROOM);
	c->stock_ctx = calloc(c->nstock, sizeof(*c->stock_ctx));
	if (c->stock == NULL || c->stock_ctx == NULL)
		return -ENOMEM;
	for (i = 0; i < c->nstock; i++)
		c->stock_ctx[i] = (uint32_t)(((uint64_t)i * SPREAD_STRIDE) % nctx);
	return 0;
}

static void
case_fini(struct bcase *c)
{
	uint32_t i;

	for (i = 0; i < c->nctx; i++) {
		if (c->out)
			mr_smb_ctx_free(c->out[i]);
		if (c->in)
			mr_smb_ctx_free(c->in[i]);
		if (c->wout)
			mr_srtp_ctx_free(c->wout[i]);
		if (c->win)
			mr_srtp_ctx_free(c->win[i]);
	}
	free(c->out);
	free(c->in);
	free(c->wout);
	free(c->win);
	free(c->out_st0);
	free(c->in_st0);
	free(c->seq);
	big_free(c->stock);
	free(c->stock_ctx);
	memset(c, 0, sizeof(*c));
	arena.used = 0;         /* every context and packet of the case is gone */
}

/* Protect the stock afresh (the outbound contexts start over), untimed. */
static void
stock_build(struct bcase *c)
{
	struct mr_smb_op ops[BURST];
	uint32_t i, j, x;

	for (x = 0; x < c->nctx; x++) {
		c->out[x]->st = c->out_st0[x];
		c->seq[x] = 1000;
	}
	for (i = 0; i < c->nstock; i += BURST) {
		for (j = 0; j < BURST; j++) {
			uint8_t *p = c->stock + (size_t)(i + j) * PKT_ROOM;

			x = c->stock_ctx[i + j];
			rtp_hdr(p, ssrc_of(x), (uint16_t)++c->seq[x]);
			memset(p + 12, 0x5a, c->size);
			ops[j] = (struct mr_smb_op){ .ctx = c->out[x], .pkt = p, .len = c->plen,
						     .cap = PKT_ROOM, .kind = MR_SMB_PROTECT };
		}
		mr_smb_run(eng, ops, BURST);
	}
	for (x = 0; x < c->nctx; x++)
		c->in[x]->st = c->in_st0[x];
}

static int
wrappers_new(struct bcase *c, bool in)
{
	struct mr_srtp_ctx ***w = in ? &c->win : &c->wout;
	struct mr_key_gen k;
	uint32_t i;

	if (*w == NULL) {
		*w = calloc(c->nctx, sizeof(**w));
		if (*w == NULL)
			return -ENOMEM;
	}
	for (i = 0; i < c->nctx; i++) {
		mr_srtp_ctx_free((*w)[i]);
		k = key_of(c->suite, i);
		(*w)[i] = mr_srtp_ctx_new(&k, ssrc_of(i), in ? MR_SRTP_INBOUND : MR_SRTP_OUTBOUND,
					  NULL);
		if ((*w)[i] == NULL)
			return -ENOMEM;
	}
	return 0;
}

/* ---- (b) raw intel-ipsec-mb: raw_crypto.c --------------------------------- */

/* ---- the timed loops ------------------------------------------------------ */

enum who { W_ENGINE, W_RAW, W_LIBSRTP, W_N };

/* A burst's ops run in the engine, raw jobs are flushed; libsrtp did each packet as it came. */
static inline void
burst_end(enum who w, struct mr_smb_op *ops)
{
	if (w == W_ENGINE)
		mr_smb_run(eng, ops, BURST);
	else if (w == W_RAW)
		bench_raw_flush(eng->mgr);
}

/* Protect: the burst's buffers are protected again and again, each time the next seq. */
static uint64_t
run_protect(struct bcase *c, enum who w, uint64_t nbursts, uint64_t *ret_pkts)
{
	static const uint8_t iv[16] = { 1, 2, 3 };
	struct mr_smb_op ops[BURST];
	uint8_t tags[BURST][20];
	uint64_t b, t0, t;
	uint32_t j, x, len, k = 0;

	for (j = 0; j < BURST; j++)
		memset(bufs[j], 0x5a, PKT_ROOM);
	t0 = bench_thread_ns();
	for (b = 0; b < nbursts; b++) {
		for (j = 0; j < BURST; j++, k++) {
			x = (uint32_t)(((uint64_t)k * SPREAD_STRIDE) % c->nctx);
			rtp_hdr(bufs[j], ssrc_of(x), (uint16_t)++c->seq[x]);
			switch (w) {
			case W_ENGINE:
				ops[j] = (struct mr_smb_op){ .ctx = c->out[x], .pkt = bufs[j],
							     .len = c->plen, .cap = PKT_ROOM,
							     .kind = MR_SMB_PROTECT };
				break;
			case W_RAW:
				bench_raw_op(eng->mgr, c->out[x], BENCH_RAW_PROTECT, bufs[j], c->plen,
					     tags[j], NULL, iv);
				break;
			default:
				len = c->plen;
				(void)mr_srtp_protect(c->wout[x], bufs[j], &len, PKT_ROOM);
				break;
			}
		}
		burst_end(w, ops);
	}
	t = bench_thread_ns() - t0;
	*ret_pkts = nbursts * BURST;
	return t;
}

/* Unprotect or verify one pass over the stock; the stock is rebuilt after unprotect. */
static uint64_t
run_receive(struct bcase *c, enum who w, enum bench_raw_op op, uint64_t *ret_pkts)
{
	static const uint8_t iv[16] = { 1, 2, 3 };
	struct mr_smb_op ops[BURST];
	uint8_t tags[BURST][20];
	uint64_t t0, t;
	uint32_t i, j, x, len;
	int st;

	t0 = bench_thread_ns();
	for (i = 0; i < c->nstock; i += BURST) {
		for (j = 0; j < BURST; j++) {
			uint8_t *p = c->stock + (size_t)(i + j) * PKT_ROOM;

			x = c->stock_ctx[i + j];
			switch (w) {
			case W_ENGINE:
				ops[j] = (struct mr_smb_op){ .ctx = c->in[x], .pkt = p, .len = c->slen,
							     .kind = op == BENCH_RAW_VERIFY ? MR_SMB_VERIFY :
										   MR_SMB_UNPROTECT };
				break;
			case W_RAW:
				bench_raw_op(eng->mgr, c->in[x], op, p, c->plen, tags[j], scratch[j], iv);
				break;
			default:
				len = c->slen;
				st = op == BENCH_RAW_VERIFY ?
					mr_srtp_verify(c->win[x], p, len, scratch[j], PKT_ROOM) :
					mr_srtp_unprotect(c->win[x], p, &len);
				(void)st;
				break;
			}
		}
		burst_end(w, ops);
	}
	t = bench_thread_ns() - t0;
	*ret_pkts = c->nstock;
	return t;
}

/*
 * ns per packet of @w doing @op on case @c, median of @repeat runs of about
 * @seconds each (passes over the stock, reset in between, untimed).
 */
static double
measure(struct bcase *c, enum who w, enum bench_raw_op op, double seconds, unsigned int repeat,
	bool one_pass)
{
	double v[MAX_REPEAT];
	uint64_t ns, pkts, tot_ns, tot_pkts, nb;
	unsigned int r;

	for (r = 0; r < repeat; r++) {
		tot_ns = tot_pkts = 0;
		if (op == BENCH_RAW_PROTECT) {
			if (w == W_LIBSRTP && wrappers_new(c, false) < 0)
				return -1;
			/* size the run from a short calibration burst */
			ns = run_protect(c, w, 64, &pkts);
			nb = (uint64_t)(seconds * 1e9 / ((double)ns / 64));
			if (nb < 16)
				nb = 16;
			tot_ns = run_protect(c, w, nb, &tot_pkts);
		} else {
			do {
				stock_build(c);
				if (w == W_LIBSRTP && wrappers_new(c, true) < 0)
					return -1;
				ns = run_receive(c, w, op, &pkts);
				tot_ns += ns;
				tot_pkts += pkts;
			} while (!one_pass && (double)tot_ns < seconds * 1e9);
		}
		v[r] = (double)tot_ns / (double)tot_pkts;
	}
	return median(v, repeat);
}

/* ---- (d) DPDK cryptodev, through dpdk-test-crypto-perf ----------------------- */

/* MOps of one crypto-perf throughput run, or a negative value. */
static double
crypto_perf(const struct opts *o, bool gcm)
{
	char cores[32], prefix[64], cmd[2048], line[512];
	double mops = -1;
	FILE *f;

	snprintf(cores, sizeof(cores), "%d,%d", o->other_cpu, o->cpu);
	snprintf(prefix, sizeof(prefix), "--file-prefix=mrsmb-%d", (int)getpid());
	snprintf(cmd, sizeof(cmd),
		 "%s -l %s --no-huge -m 512 --no-pci %s --vdev crypto_aesni_mb "
		 "--log-level='*:error' -- --ptest throughput --devtype crypto_aesni_mb "
		 "--buffer-sz 200 --burst-sz 32 --total-ops 3000000 --silent %s 2>/dev/null",
		 o->crypto_perf, cores, prefix,
		 gcm ? "--optype aead --aead-algo aes-gcm --aead-op encrypt --aead-key-sz 16 "
		       "--aead-iv-sz 12 --aead-aad-sz 12 --digest-sz 16" :
		       "--optype cipher-then-auth --cipher-algo aes-ctr --cipher-op encrypt "
		       "--cipher-key-sz 16 --cipher-iv-sz 16 --auth-algo sha1-hmac "
		       "--auth-op generate --auth-key-sz 20 --digest-sz 10");
	f = popen(cmd, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL) {
		unsigned int lcore, bsz, burst;
		unsigned long long enq, deq, fenq, fdeq;
		double m, gbps, cyc;

		if (sscanf(line, "%u %u %u %llu %llu %llu %llu %lf %lf %lf", &lcore, &bsz, &burst,
			   &enq, &deq, &fenq, &fdeq, &m, &gbps, &cyc) == 10)
			mops = m;
	}
	pclose(f);
	bench_eal_dir_remove(prefix + strlen("--file-prefix="));
	return mops;
}

/*
 * intel-ipsec-mb on crypto-perf's work (200-byte buffers, cipher and auth
 * over all of each, bursts of 32): through the job manager (@jobs) or the
 * calls the engine makes (cipher and hash bursts; AES-GCM direct).
 */
static double
direct_200(bool gcm, bool jobs, double seconds)
{
	static const uint8_t key[16] = { 9, 8, 7 }, iv[16] = { 1 }, aad[12] = { 2 };
	static struct gcm_key_data gk __attribute__((aligned(64)));
	static uint8_t enc[240] __attribute__((aligned(16))), dec[240] __attribute__((aligned(16)));
	uint8_t ipad[20] = { 3 }, opad[20] = { 4 }, tags[BURST][20];
	uint64_t t0, n = 0, b;
	unsigned int j;

	IMB_AES128_GCM_PRE(eng->mgr, key, &gk);
	IMB_AES_KEYEXP_128(eng->mgr, key, enc, dec);
	t0 = bench_thread_ns();
	do {
		for (b = 0; b < 64; b++) {
			for (j = 0; j < BURST; j++) {
				IMB_JOB *jb;

				if (!jobs) {
					if (gcm)
						bench_raw_gcm(eng->mgr, 16, true, &gk, bufs[j], bufs[j], 200, iv, aad,
							tags[j]);
					else
						bench_raw_cm_job(enc, 16, ipad, opad, true, true, bufs[j],
							   200, 200, tags[j], iv);
					continue;
				}
				jb = IMB_GET_NEXT_JOB(eng->mgr);
				jb->src = bufs[j];
				jb->dst = bufs[j];
				jb->cipher_start_src_offset_in_bytes = 0;
				jb->msg_len_to_cipher_in_bytes = 200;
				jb->hash_start_src_offset_in_bytes = 0;
				jb->msg_len_to_hash_in_bytes = 200;
				jb->key_len_in_bytes = 16;
				jb->iv = iv;
				jb->cipher_direction = IMB_DIR_ENCRYPT;
				jb->chain_order = IMB_ORDER_CIPHER_HASH;
				jb->auth_tag_output = tags[j];
				if (gcm) {
					jb->cipher_mode = IMB_CIPHER_GCM;
					jb->hash_alg = IMB_AUTH_AES_GMAC;
					jb->enc_keys = &gk;
					jb->dec_keys = &gk;
					jb->iv_len_in_bytes = 12;
					jb->u.GCM.aad = aad;
					jb->u.GCM.aad_len_in_bytes = 12;
					jb->auth_tag_output_len_in_bytes = 16;
				} else {
					jb->cipher_mode = IMB_CIPHER_CNTR;
					jb->hash_alg = IMB_AUTH_HMAC_SHA_1;
					jb->enc_keys = enc;
					jb->dec_keys = enc;
					jb->iv_len_in_bytes = 16;
					jb->u.HMAC._hashed_auth_key_xor_ipad = ipad;
					jb->u.HMAC._hashed_auth_key_xor_opad = opad;
					jb->auth_tag_output_len_in_bytes = 12;
				}
				for (jb = IMB_SUBMIT_JOB_NOCHECK(eng->mgr); jb != NULL;
				     jb = IMB_GET_COMPLETED_JOB(eng->mgr))
					;
			}
			if (jobs)
				while (IMB_FLUSH_JOB(eng->mgr) != NULL)
					while (IMB_GET_COMPLETED_JOB(eng->mgr) != NULL)
						;
			else
				bench_raw_flush(eng->mgr);
			n += BURST;
		}
	} while ((double)(bench_thread_ns() - t0) < seconds * 1e9);
	return (double)n * 1e3 / (double)(bench_thread_ns() - t0);        /* Mpps per CPU-second */
}

/* ---- options and main ------------------------------------------------------ */

static unsigned int
parse_list(const char *s, uint32_t *out, unsigned int max)
{
	unsigned int n = 0;
	char *end;

	while (*s != '\0' && n < max) {
		out[n++] = (uint32_t)strtoul(s, &end, 10);
		s = *end == ',' ? end + 1 : end;
		if (end == s && *s != '\0')
			break;
	}
	return n;
}

static void
usage(void)
{
	puts("usage: bench_srtp_engine [--suites all|N,N] [--sizes 200,1200] [--contexts 1,100000]\n"
	     "         [--seconds 0.3] [--repeat 3] [--cpu 1] [--other-cpu 0] [--no-libsrtp]\n"
	     "         [--libsrtp-max-contexts 10000] [--hugepages]\n"
	     "         [--crypto-perf PATH | --no-crypto-perf]\n"
	     "suites by number: 1 AES_CM_128_HMAC_SHA1_80 ... 6 AEAD_AES_256_GCM\n"
	     "libsrtp is not measured above --libsrtp-max-contexts: Debian's NSS build makes\n"
	     "creating its contexts quadratic (100,000 take tens of minutes).");
}

static int
parse_opts(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "suites", required_argument, NULL, 's' },
		{ "sizes", required_argument, NULL, 'z' },
		{ "contexts", required_argument, NULL, 'c' },
		{ "seconds", required_argument, NULL, 't' },
		{ "repeat", required_argument, NULL, 'r' },
		{ "cpu", required_argument, NULL, 'p' },
		{ "other-cpu", required_argument, NULL, 'o' },
		{ "no-libsrtp", no_argument, NULL, 'L' },
		{ "libsrtp-max-contexts", required_argument, NULL, 'M' },
		{ "hugepages", no_argument, NULL, 'H' },
		{ "crypto-perf", required_argument, NULL, 'C' },
		{ "no-crypto-perf", no_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint32_t tmp[MR_SUITE_MAX];
	unsigned int i;
	int ch;

	*o = (struct opts){ .n_sizes = 2, .sizes = { 200, 1200 }, .n_ctxs = 2,
			    .ctxs = { 1, 100000 }, .seconds = 0.3, .repeat = 3, .cpu = 1,
			    .other_cpu = 0, .libsrtp = true, .libsrtp_max = 10000,
			    .crypto_perf = "/usr/bin/dpdk-test-crypto-perf" };
	for (i = 1; i < MR_SUITE_MAX; i++)
		o->suites[o->n_suites++] = (uint8_t)i;
	while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		switch (ch) {
		case 's':
			if (strcmp(optarg, "all") != 0) {
				o->n_suites = parse_list(optarg, tmp, MR_SUITE_MAX);
				for (i = 0; i < o->n_suites; i++) {
					if (!mr_smb_suite_supported((uint8_t)tmp[i]))
						return -1;
					o->suites[i] = (uint8_t)tmp[i];
				}
			}
			break;
		case 'z':
			o->n_sizes = parse_list(optarg, o->sizes, MAX_LIST);
			for (i = 0; i < o->n_sizes; i++)
				if (o->sizes[i] + 12u + 64u > PKT_ROOM)
					return -1;
			break;
		case 'c':
			o->n_ctxs = parse_list(optarg, o->ctxs, MAX_LIST);
			for (i = 0; i < o->n_ctxs; i++)
				if (o->ctxs[i] == 0)
					return -1;
			break;
		case 't':
			o->seconds = atof(optarg);
			break;
		case 'r':
			o->repeat = (unsigned int)atoi(optarg);
			if (o->repeat < 1 || o->repeat > MAX_REPEAT)
				return -1;
			break;
		case 'p':
			o->cpu = atoi(optarg);
			break;
		case 'o':
			o->other_cpu = atoi(optarg);
			break;
		case 'L':
			o->libsrtp = false;
			break;
		case 'M':
			o->libsrtp_max = (uint32_t)strtoul(optarg, NULL, 10);
			break;
		case 'H':
			o->huge = true;
			break;
		case 'C':
			o->crypto_perf = optarg;
			break;
		case 'N':
			o->crypto_perf = NULL;
			break;
		default:
			return -1;
		}
	}
	return o->n_suites && o->n_sizes && o->n_ctxs ? 0 : -1;
}

static void
print_cpu(void)
{
	char line[256];
	FILE *f = fopen("/proc/cpuinfo", "r");

	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "model name", 10) == 0) {
			printf("cpu: %s", strchr(line, ':') + 2);
			break;
		}
	}
	if (f != NULL)
		fclose(f);
}

int
main(int argc, char **argv)
{
	struct opts o;
	struct bcase c;
	unsigned int si, zi, ci, op;
	double ns[W_N];
	bool lib;
	int r;

	if (parse_opts(argc, argv, &o) < 0) {
		usage();
		return 2;
	}
	r = bench_pin_cpu((unsigned int)o.cpu);
	if (r < 0)
		fprintf(stderr, "sched_setaffinity (figures go on anyway): %s\n", strerror(-r));
	use_huge = o.huge;
	if (use_huge && arena_init() < 0) {
		perror("bench_srtp_engine: arena");
		return 1;
	}
	if (mr_srtp_init() < 0 || (eng = mr_smb_engine_new()) == NULL) {
		fprintf(stderr, "bench_srtp_engine: %s\n", mr_smb_last_error());
		return 1;
	}
	print_cpu();
	printf("intel-ipsec-mb %s, code path %s; libsrtp %s; bursts of %u; CPU %d; "
	       "median of %u; CPU ns per packet; contexts and packets in %s\n\n",
	       imb_get_version_str(), mr_smb_engine_arch(eng), srtp_get_version_string(), BURST,
	       o.cpu, o.repeat, use_huge ? "transparent huge pages" : "malloc'd 4 KiB pages");
	printf("%-24s %5s %7s %-9s | %9s %9s | %8s %8s | %9s %8s\n", "suite", "bytes", "ctx", "op",
	       "engine ns", "Mpps/cpu", "raw ns", "eng/raw", "libsrtp", "lib/eng");
	fflush(stdout);
	for (ci = 0; ci < o.n_ctxs; ci++) {
		for (si = 0; si < o.n_suites; si++) {
			for (zi = 0; zi < o.n_sizes; zi++) {
				if (case_init(&c, o.suites[si], o.sizes[zi], o.ctxs[ci]) < 0) {
					fprintf(stderr, "bench_srtp_engine: out of memory\n");
					case_fini(&c);
					continue;
				}
				for (op = 0; op < BENCH_RAW_N; op++) {
					ns[W_ENGINE] = measure(&c, W_ENGINE, op, o.seconds, o.repeat, false);
					ns[W_RAW] = measure(&c, W_RAW, op, o.seconds, o.repeat, false);
					/* one pass with many contexts: libsrtp's are slow to make */
					lib = o.libsrtp && c.nctx <= o.libsrtp_max;
					ns[W_LIBSRTP] = lib ? measure(&c, W_LIBSRTP, op, o.seconds,
								      c.nctx > STOCK_MIN ? 1 : o.repeat,
								      c.nctx > STOCK_MIN) : 0;
					printf("%-24s %5u %7u %-9s | %9.1f %9.2f | %8.1f %8.2f | ",
					       mr_srtp_suite(c.suite)->name, c.size, c.nctx, op_name[op],
					       ns[W_ENGINE], 1e3 / ns[W_ENGINE], ns[W_RAW],
					       ns[W_ENGINE] / ns[W_RAW]);
					if (lib)
						printf("%9.1f %8.1f\n", ns[W_LIBSRTP],
						       ns[W_LIBSRTP] / ns[W_ENGINE]);
					else
						printf("%9s %8s\n", "-", "-");
					fflush(stdout);
				}
				case_fini(&c);
			}
		}
	}
	printf("\nintel-ipsec-mb on crypto-perf's work (200-byte buffers, bursts of 32): job "
	       "manager vs the engine's calls (cipher/hash bursts, direct AES-GCM)%s:\n",
	       o.crypto_perf != NULL ? ", and DPDK cryptodev crypto_aesni_mb "
				      "(dpdk-test-crypto-perf throughput)" : "");
	for (op = 0; op < 2; op++) {
		double dev = o.crypto_perf != NULL ? crypto_perf(&o, op == 1) : 0;
		double job = direct_200(op == 1, true, o.seconds * 3);
		double dir = direct_200(op == 1, false, o.seconds * 3);

		printf("  %-28s jobs %6.2f  bursts/direct %6.2f Mpps/cpu-s  bursts/jobs %5.2f",
		       op ? "AES-128-GCM (AAD 12)" : "AES-128-CTR + HMAC-SHA1-80", job, dir,
		       dir / job);
		if (dev > 0)
			printf("  cryptodev %6.2f Mpps  bursts/cryptodev %5.2f", dev, dir / dev);
		printf("\n");
	}
	mr_smb_engine_free(eng);
	return 0;
}
