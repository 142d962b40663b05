/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control side of the shared-memory region (see region.h and, for the
 * protocol, include/mrelay/shm.h).
 *
 * Every function that changes the region runs under the writer lock, so this
 * process is the only writer of the slots, of next_leg_uid, of the command
 * ring's head and of the event ring's tail. Slots are written whole under
 * their seqlock; a slot whose counter is odd while we hold the lock was left
 * by a writer that died mid-write, and is treated as torn (rewritten whole).
 */
#include <assert.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "region.h"

/* How long mr_region_open() waits for a region another process is creating. */
#define OPEN_INIT_WAIT_MS 200u

/* The slot body: everything the seqlock protects except the counter itself. */
#define SLOT_BODY_OFF offsetof(struct mr_leg_slot, generation)
/* What a delete wipes: everything after the counter and the generation. */
#define SLOT_WIPE_OFF offsetof(struct mr_leg_slot, leg_uid)

static void
sleep_ms(unsigned int ms)
{
	struct timespec ts = { .tv_sec = ms / 1000u, .tv_nsec = (long)(ms % 1000u) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/*
 * True when @path holds a file that may be a region still being initialised
 * by its creator: shorter than a header, or magic not yet stored (the creator
 * stores it last).
 */
static bool
maybe_initialising(const char *path)
{
	struct mr_shm_header h;
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = pread(fd, &h, sizeof(h), 0);
	close(fd);
	if (n < 0)
		return false;
	return (size_t)n < sizeof(h) || h.magic == 0;
}

static bool
ring_ok(const struct mr_ring *ring, uint32_t size, uint32_t entry_size)
{
	return ring->size == size && ring->entry_size == entry_size;
}

int
mr_region_open(struct mr_region *r, const char *path, bool create,
	       uint32_t max_legs, uint32_t max_workers)
{
	struct mr_shm_header *h = NULL;
	unsigned int waited_ms = 0;
	uint64_t size = 0;
	struct stat st;
	int err;

	memset(r, 0, sizeof(*r));
	r->lock_fd = -1;
	if (strlen(path) >= sizeof(r->path))
		return -ENAMETOOLONG;

	/* Each retry waits 1 ms, so this loop ends even for a dangling symlink
	 * (open() says ENOENT, open(O_CREAT | O_EXCL) says EEXIST). */
	for (;;) {
		err = mr_shm_attach(path, &h, &size);
		if (err == -ENOENT && create)
			err = mr_shm_create(path, max_legs, max_workers, &h, &size);
		/* EEXIST: another process created it first; EINVAL: maybe it is
		 * still initialising it. Either way, look again shortly. */
		if ((err == -EEXIST || (err == -EINVAL && maybe_initialising(path))) &&
		    waited_ms < OPEN_INIT_WAIT_MS) {
			sleep_ms(1);
			waited_ms++;
			continue;
		}
		break;
	}
	if (err < 0)
		return err;

	/* mr_shm_check() leaves the rings to us: their geometry is fixed. */
	if (!ring_ok(mr_shm_cmd_ring(h), MR_SHM_CMD_RING, sizeof(struct mr_cmd)) ||
	    !ring_ok(mr_shm_event_ring(h), MR_SHM_EVENT_RING, sizeof(struct mr_event))) {
		err = -EINVAL;
		goto err_unmap;
	}
	/* Remember which file we mapped, so the lock can tell if it was replaced. */
	if (stat(path, &st) < 0) {
		err = -errno;
		goto err_unmap;
	}
	r->hdr = h;
	r->size = size;
	r->dev = (uint64_t)st.st_dev;
	r->ino = (uint64_t)st.st_ino;
	memcpy(r->path, path, strlen(path) + 1);
	return 0;
err_unmap:
	munmap(h, (size_t)size);
	return err;
}

void
mr_region_close(struct mr_region *r)
{
	if (r->lock_fd >= 0)
		mr_region_unlock(r);
	if (r->hdr != NULL)
		munmap(r->hdr, (size_t)r->size);
	r->hdr = NULL;
	r->size = 0;
}

int
mr_region_lock(struct mr_region *r)
{
	struct stat st;
	int fd, err;

	if (r->lock_fd >= 0)
		return -EDEADLK;
	fd = open(r->path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR) {
			err = -errno;
			goto err_close;
		}
	}
	if (fstat(fd, &st) < 0) {
		err = -errno;
		goto err_close;
	}
	if ((uint64_t)st.st_dev != r->dev || (uint64_t)st.st_ino != r->ino) {
		err = -ESTALE;
		goto err_close;
	}
	r->lock_fd = fd;
	return 0;
err_close:
	close(fd);      /* also drops the flock, if taken */
	return err;
}

void
mr_region_unlock(struct mr_region *r)
{
	if (r->lock_fd < 0)
		return;
	flock(r->lock_fd, LOCK_UN);
	close(r->lock_fd);
	r->lock_fd = -1;
}

int
mr_region_find_free(const struct mr_region *r, uint32_t *ret_slot)
{
	const struct mr_shm_header *h = r->hdr;
	uint32_t i;

	for (i = 0; i < h->max_legs; i++) {
		const struct mr_leg_slot *s = mr_shm_slot(h, i);

		/* An odd slot is torn, not free: mr_region_repair() frees it. */
		if (s->state == MR_LEG_FREE && !mr_seq_is_odd(&s->seq)) {
			*ret_slot = i;
			return 0;
		}
	}
	return -ENOSPC;
}

/* Push a leg command; if the ring is full, ask the dataplane to rescan. */
static void
queue_leg_cmd(struct mr_shm_header *h, uint16_t op, uint32_t slot, uint32_t generation)
{
	struct mr_cmd c = { .op = op, .slot = slot, .generation = generation };

	if (mr_ring_push(mr_shm_cmd_ring(h), &c) < 0)
		__atomic_add_fetch(&h->resync_req, 1u, __ATOMIC_RELEASE);
}

static bool
sockaddr_ok(const struct mr_sockaddr *a, bool required)
{
	static const uint8_t zero[12];

	switch (a->family) {
	case MR_AF_NONE:
		return !required && a->port_be == 0;
	case MR_AF_INET:
		/* IPv4 leaves ip[4..15] zero so that memcmp() compares. */
		if (memcmp(a->ip + 4, zero, sizeof(zero)) != 0)
			return false;
		break;
	case MR_AF_INET6:
		break;
	default:
		return false;
	}
	return !required || a->port_be != 0;
}

static bool
key_gen_ok(const struct mr_key_gen *g)
{
	return g->suite < MR_SUITE_MAX && g->key_len <= MR_KEY_MAX_BYTES &&
	       g->salt_len <= MR_SALT_MAX_BYTES && g->mki_len <= MR_MKI_MAX_BYTES;
}

static bool
crypto_ok(const struct mr_crypto_dir *d)
{
	return d->active <= 1 && key_gen_ok(&d->gen[0]) && key_gen_ok(&d->gen[1]);
}

static bool
cstr_ok(const char *s, size_t len)
{
	return memchr(s, '\0', len) != NULL;
}

/*
 * Structural checks only: what mrelay-dp would otherwise have to distrust
 * (array indices, lengths, enums). Policy (PSTN, address clashes) is the
 * caller's.
 */
static bool
slot_ok(const struct mr_shm_header *h, const struct mr_leg_slot *s)
{
	return s->latch > MR_LATCH_INVALID && s->latch < MR_LATCH_MAX &&
	       s->dscp <= 63 && (s->flags & ~MR_LEG_F_ALL) == 0 &&
	       (s->egress_slot == MR_LEG_NONE || s->egress_slot < h->max_legs) &&
	       sockaddr_ok(&s->local, true) &&
	       sockaddr_ok(&s->peer_rtp, false) && sockaddr_ok(&s->peer_rtcp, false) &&
	       crypto_ok(&s->crypto_in) && crypto_ok(&s->crypto_out) &&
	       cstr_ok(s->ice.local_ufrag, sizeof(s->ice.local_ufrag)) &&
	       cstr_ok(s->ice.local_pwd, sizeof(s->ice.local_pwd)) &&
	       cstr_ok(s->ice.remote_ufrag, sizeof(s->ice.remote_ufrag));
}

int
mr_region_leg_write(struct mr_region *r, uint32_t slot, const struct mr_leg_slot *src)
{
	struct mr_shm_header *h = r->hdr;
	struct mr_leg_slot tmp, *s;
	bool torn;

	if (r->lock_fd < 0)
		return -ENOLCK;
	if (slot >= h->max_legs || !slot_ok(h, src))
		return -EINVAL;
	s = mr_shm_slot(h, slot);
	torn = mr_seq_is_odd(&s->seq);

	memcpy(&tmp, src, sizeof(tmp));
	tmp.generation = s->generation + 1u;
	if (torn || s->state != MR_LEG_ACTIVE) {
		/* A new leg: mrelay-dp resets its part when it sees a new uid. */
		if (h->next_leg_uid == 0)
			h->next_leg_uid = 1;    /* 0 means "no leg" in the dp part */
		tmp.leg_uid = h->next_leg_uid++;
	} else {
		tmp.leg_uid = s->leg_uid;
	}
	tmp.state = MR_LEG_ACTIVE;

	/* A torn slot is already odd: finish the dead writer's write. */
	if (!torn)
		mr_seq_write_begin(&s->seq);
	memcpy((uint8_t *)s + SLOT_BODY_OFF, (const uint8_t *)&tmp + SLOT_BODY_OFF,
	       sizeof(*s) - SLOT_BODY_OFF);
	mr_seq_write_end(&s->seq);
	queue_leg_cmd(h, MR_CMD_LEG_SET, slot, tmp.generation);
	explicit_bzero(&tmp, sizeof(tmp));      /* it held the leg's keys */
	return 0;
}

/* Wipe and free a slot whose counter is odd; the caller makes it even. */
static uint32_t
wipe_slot_body(struct mr_leg_slot *s)
{
	uint32_t generation = s->generation + 1u;

	/* Keys live in the body; explicit_bzero() is never optimised away. */
	explicit_bzero((uint8_t *)s + SLOT_WIPE_OFF, sizeof(*s) - SLOT_WIPE_OFF);
	s->generation = generation;     /* state is now MR_LEG_FREE (0) */
	return generation;
}

int
mr_region_leg_delete(struct mr_region *r, uint32_t slot)
{
	struct mr_shm_header *h = r->hdr;
	struct mr_leg_slot *s;
	uint32_t generation;
	bool torn;

	if (r->lock_fd < 0)
		return -ENOLCK;
	if (slot >= h->max_legs)
		return -EINVAL;
	s = mr_shm_slot(h, slot);
	torn = mr_seq_is_odd(&s->seq);
	if (!torn && s->state == MR_LEG_FREE)
		return -ENOENT;
	if (!torn)
		mr_seq_write_begin(&s->seq);
	generation = wipe_slot_body(s);
	mr_seq_write_end(&s->seq);
	queue_leg_cmd(h, MR_CMD_LEG_DEL, slot, generation);
	return 0;
}

int
mr_region_leg_read(const struct mr_region *r, uint32_t slot, struct mr_leg_slot *ret)
{
	const struct mr_shm_header *h = r->hdr;
	const struct mr_leg_slot *s;
	struct mr_leg_slot tmp;
	int err;

	if (slot >= h->max_legs)
		return -EINVAL;
	s = mr_shm_slot(h, slot);
	err = mr_seq_read(&s->seq, &tmp, s, sizeof(tmp));
	if (err == 0)
		memcpy(ret, &tmp, sizeof(tmp));
	explicit_bzero(&tmp, sizeof(tmp));
	return err;
}

int
mr_region_leg_dp_read(const struct mr_region *r, uint32_t slot, struct mr_leg_dp *ret)
{
	const struct mr_shm_header *h = r->hdr;
	const struct mr_leg_dp *d;
	struct mr_leg_dp tmp;
	int err;

	if (slot >= h->max_legs)
		return -EINVAL;
	d = mr_shm_leg_dp(h, slot);
	err = mr_seq_read(&d->dseq, &tmp, d, sizeof(tmp));
	if (err == 0)
		memcpy(ret, &tmp, sizeof(tmp));
	return err;
}

static uint64_t
load_u64(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

void
mr_region_leg_counters(const struct mr_region *r, uint32_t slot, struct mr_leg_counters *ret)
{
	const struct mr_shm_header *h = r->hdr;
	struct mr_leg_counters sum;
	uint32_t w;

	memset(&sum, 0, sizeof(sum));
	for (w = 0; slot < h->max_legs && w < h->max_workers; w++) {
		const struct mr_leg_counters *c = mr_shm_counters(h, w, slot);
		uint64_t last = load_u64(&c->last_rx_ms);

		sum.rx_pkts += load_u64(&c->rx_pkts);
		sum.rx_bytes += load_u64(&c->rx_bytes);
		sum.tx_pkts += load_u64(&c->tx_pkts);
		sum.tx_bytes += load_u64(&c->tx_bytes);
		sum.drop_src += load_u64(&c->drop_src);
		sum.drop_auth += load_u64(&c->drop_auth);
		sum.drop_other += load_u64(&c->drop_other);
		if (last > sum.last_rx_ms)
			sum.last_rx_ms = last;
	}
	memcpy(ret, &sum, sizeof(sum));
}

/* A cookie no earlier, unanswered MR_CMD_SYNC is likely to carry. */
static uint32_t
sync_cookie(void)
{
	static uint32_t counter;
	struct timespec ts;
	uint32_t c;

	if (getrandom(&c, sizeof(c), GRND_NONBLOCK) == (ssize_t)sizeof(c))
		return c;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((uint32_t)getpid() << 16) ^ (uint32_t)ts.tv_nsec ^ ++counter;
}

int
mr_region_sync(struct mr_region *r, uint32_t timeout_ms,
	       void (*cb)(const struct mr_event *, void *), void *ctx)
{
	struct mr_shm_header *h = r->hdr;
	struct mr_ring *events = mr_shm_event_ring(h);
	struct mr_cmd c = { .op = MR_CMD_SYNC };
	struct mr_event ev;
	uint64_t deadline;

	if (r->lock_fd < 0)
		return -ENOLCK;
	c.cookie = sync_cookie();
	if (mr_ring_push(mr_shm_cmd_ring(h), &c) < 0)
		return -ENOBUFS;
	deadline = mr_now_ms() + timeout_ms;
	for (;;) {
		while (mr_ring_pop(events, &ev) == 0) {
			if (ev.type == MR_EV_SYNC && ev.cookie == c.cookie)
				return 0;
			if (cb != NULL)
				cb(&ev, ctx);
		}
		if (mr_now_ms() >= deadline)
			return -ETIMEDOUT;
		sleep_ms(1);
	}
}

/* A zombie (killed, not yet reaped by its parent) is not alive. */
static bool
zombie(uint32_t pid)
{
	char path[64], buf[256], *close_paren;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%u/stat", (unsigned int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	close_paren = strrchr(buf, ')');       /* comm may hold spaces and ')' */
	return close_paren != NULL && close_paren[1] == ' ' && close_paren[2] == 'Z';
}

bool
mr_region_cp_alive(const struct mr_region *r, uint64_t max_age_ms, uint32_t *ret_pid,
		   uint64_t *ret_age_ms)
{
	const struct mr_shm_header *h = r->hdr;
	uint32_t pid = __atomic_load_n(&h->cp_pid, __ATOMIC_ACQUIRE);
	uint64_t hb = __atomic_load_n(&h->cp_heartbeat_ms, __ATOMIC_ACQUIRE), now = mr_now_ms();
	uint64_t age = hb >= now ? 0 : now - hb;

	*ret_pid = pid;
	if (ret_age_ms != NULL)
		*ret_age_ms = age;
	/* kill() with pid <= 0 would address process groups, not a process. */
	if (pid == 0 || pid > (uint32_t)INT_MAX || hb == 0)
		return false;
	if ((kill((pid_t)pid, 0) < 0 && errno != EPERM) || zombie(pid))
		return false;
	return age <= max_age_ms;
}

bool
mr_region_dp_alive(const struct mr_region *r, uint64_t max_age_ms)
{
	const struct mr_shm_header *h = r->hdr;
	uint32_t pid = __atomic_load_n(&h->dp_pid, __ATOMIC_ACQUIRE);
	uint32_t state = __atomic_load_n(&h->dp_state, __ATOMIC_ACQUIRE);
	uint64_t hb = __atomic_load_n(&h->dp_heartbeat_ms, __ATOMIC_ACQUIRE);
	uint64_t now;

	/* kill() with pid <= 0 would address process groups, not a process. */
	if (state == MR_DP_DOWN || pid == 0 || pid > (uint32_t)INT_MAX || hb == 0)
		return false;
	if (kill((pid_t)pid, 0) < 0 && errno != EPERM)
		return false;
	now = mr_now_ms();
	return hb >= now || now - hb <= max_age_ms;
}

unsigned int
mr_region_repair(struct mr_region *r)
{
	struct mr_shm_header *h = r->hdr;
	unsigned int n = 0;
	uint32_t i;

	assert(r->lock_fd >= 0);
	for (i = 0; i < h->max_legs; i++) {
		struct mr_leg_slot *s = mr_shm_slot(h, i);
		uint32_t generation;

		if (!mr_seq_is_odd(&s->seq))
			continue;
		/* Its writer died mid-write: whatever it held is untrustworthy. */
		generation = wipe_slot_body(s);
		mr_seq_repair(&s->seq);
		queue_leg_cmd(h, MR_CMD_LEG_DEL, i, generation);
		n++;
	}
	return n;
}
