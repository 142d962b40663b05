/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * controlplane/shm/region.c against include/mrelay/shm.h: create, attach and
 * refuse; leg write/read/delete with generations, leg_uids and key wiping;
 * the commands they queue; resync when the command ring is full; repair of
 * slots a dead writer left odd; counters; sync against a forked fake
 * dataplane; and the layout at a million legs. Region files live in a
 * directory of each test's own under /tmp (tmpdir.h).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "region.h"
#include "tmpdir.h"

#define SMALL_LEGS 64u
#define SMALL_WORKERS 2u

struct fixture {
	struct mr_test_tmpdir tmp;      /* path: the region */
	char other[128];        /* a second file, for tests that need one */
	struct mr_region r;
};

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	if (mr_test_tmpdir_make(&f->tmp, "/tmp/mrelay-test-region-XXXXXX", "region") < 0) {
		free(f);
		return -1;
	}
	snprintf(f->other, sizeof(f->other), "%s/other", f->tmp.dir);
	f->r.lock_fd = -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	int r;

	mr_region_close(&f->r);
	r = mr_test_tmpdir_remove(&f->tmp);
	free(f);
	return r;
}

/* Open a fresh small region, locked, with an empty command ring. */
static struct mr_region *
open_small(struct fixture *f, uint32_t legs, uint32_t workers)
{
	assert_int_equal(mr_region_open(&f->r, f->tmp.path, true, legs, workers), 0);
	assert_int_equal(mr_region_lock(&f->r), 0);
	assert_int_equal(mr_ring_count(mr_shm_cmd_ring(f->r.hdr)), 0);
	return &f->r;
}

/* A valid plain-RTP leg whose fields all differ from zero. */
static void
leg_init(struct mr_leg_slot *s, uint8_t tag)
{
	memset(s, 0, sizeof(*s));
	s->call_tag = 0x1122334455667788ull + tag;
	s->latch = MR_LATCH_FIRST;
	s->dscp = 46;
	s->flags = MR_LEG_F_PSTN | MR_LEG_F_MUTED;
	s->egress_slot = MR_LEG_NONE;
	s->group = 9;
	s->local.family = MR_AF_INET;
	s->local.ip[0] = 198;
	s->local.ip[1] = 18;
	s->local.ip[3] = tag;
	s->local.port_be = htons(10000);
	s->local_rtcp_port_be = htons(10001);
	s->peer_rtp.family = MR_AF_INET6;
	s->peer_rtp.ip[0] = 0x20;
	s->peer_rtp.ip[15] = tag;
	s->peer_rtp.port_be = htons(4000);
	s->latch_window_ms = 1000;
	s->relatch_idle_ms = 2000;
	s->idle_timeout_ms = 30000;
}

/* Key material in every secret field, all bytes 0xa5. */
static void
leg_add_keys(struct mr_leg_slot *s)
{
	unsigned int d, g;
	struct mr_crypto_dir *dirs[2] = { &s->crypto_in, &s->crypto_out };

	for (d = 0; d < 2; d++) {
		for (g = 0; g < 2; g++) {
			struct mr_key_gen *k = &dirs[d]->gen[g];

			k->suite = MR_SUITE_AES_CM_128_HMAC_SHA1_80;
			k->key_len = 16;
			k->salt_len = 14;
			k->mki_len = 4;
			memset(k->key, 0xa5, sizeof(k->key));
			memset(k->salt, 0xa5, sizeof(k->salt));
			memset(k->mki, 0xa5, sizeof(k->mki));
		}
	}
	memset(s->ice.local_pwd, 0xa5, sizeof(s->ice.local_pwd) - 1);
}

static void
expect_cmd(struct mr_region *r, uint16_t op, uint32_t slot, uint32_t generation)
{
	struct mr_cmd c;

	assert_int_equal(mr_ring_pop(mr_shm_cmd_ring(r->hdr), &c), 0);
	assert_int_equal(c.op, op);
	assert_int_equal(c.slot, slot);
	assert_int_equal(c.generation, generation);
}

static void
expect_no_cmd(struct mr_region *r)
{
	assert_int_equal(mr_ring_count(mr_shm_cmd_ring(r->hdr)), 0);
}

static void
write_file(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

/* --- create, attach, refuse ---------------------------------------------- */

static void
test_open_absent(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(mr_region_open(&f->r, f->tmp.path, false, 0, 0), -ENOENT);
	assert_null(f->r.hdr);
	mr_region_close(&f->r);         /* safe after a failed open */
	assert_int_equal(access(f->tmp.path, F_OK), -1);
}

static void
test_create_attach(void **state)
{
	struct fixture *f = *state;
	const struct mr_shm_header *h;
	struct mr_shm_layout l;
	struct stat st;

	assert_int_equal(mr_region_open(&f->r, f->tmp.path, true, SMALL_LEGS, SMALL_WORKERS), 0);
	h = f->r.hdr;
	assert_non_null(h);
	assert_int_equal(f->r.lock_fd, -1);
	assert_true(h->magic == MR_SHM_MAGIC);
	assert_int_equal(h->abi_version, MR_SHM_ABI_VERSION);
	assert_int_equal(h->max_legs, SMALL_LEGS);
	assert_int_equal(h->max_workers, SMALL_WORKERS);
	assert_int_equal(h->next_leg_uid, 1);
	assert_int_equal(mr_shm_layout(SMALL_LEGS, SMALL_WORKERS, &l), 0);
	assert_int_equal(f->r.size, l.size);
	assert_int_equal(stat(f->tmp.path, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal((uint64_t)st.st_size, l.size);
	mr_region_close(&f->r);
	assert_null(f->r.hdr);
	mr_region_close(&f->r);         /* twice is fine */

	/* Attach: the existing dimensions win over the requested ones. */
	assert_int_equal(mr_region_open(&f->r, f->tmp.path, false, 0, 0), 0);
	assert_int_equal(f->r.hdr->max_legs, SMALL_LEGS);
	mr_region_close(&f->r);
	assert_int_equal(mr_region_open(&f->r, f->tmp.path, true, 1024, 8), 0);
	assert_int_equal(f->r.hdr->max_legs, SMALL_LEGS);
	assert_int_equal(f->r.hdr->max_workers, SMALL_WORKERS);
	mr_region_close(&f->r);

	/* Bad dimensions are refused before anything is created. */
	assert_int_equal(mr_region_open(&f->r, f->other, true, 0, 1), -EINVAL);
	assert_int_equal(mr_region_open(&f->r, f->other, true, 1, MR_SHM_MAX_WORKERS + 1), -EINVAL);
	assert_int_equal(mr_region_open(&f->r, f->other, true, MR_SHM_MAX_LEGS + 1, 1), -EINVAL);
	assert_int_equal(access(f->other, F_OK), -1);
}

static void
test_path_too_long(void **state)
{
	struct fixture *f = *state;
	char path[400];

	memset(path, 'a', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	assert_int_equal(mr_region_open(&f->r, path, true, 8, 1), -ENAMETOOLONG);
}

static void
test_abi_mismatch(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(mr_region_open(&f->r, f->tmp.path, true, SMALL_LEGS, SMALL_WORKERS), 0);
	f->r.hdr->abi_version = MR_SHM_ABI_VERSION + 1u;
	mr_region_close(&f->r);
	assert_int_equal(mr_region_open(&f->r, f->tmp.path, false, 0, 0), -EPROTO);
	assert_null(f->r.hdr);
	/* create never replaces an existing region, whatever its version. */
	assert_int_equal(mr_region_open(&f->r, f->tmp.path, true, SMALL_LEGS, SMALL_WORKERS),
			 -EPROTO);
}

static void
test_bad_magic_and_layout(void **state)
{
	struct fixture *f = *state;
	static const char junk[4096] = "this is not a region";
	uint32_t legs = SMALL_LEGS;
	struct mr_shm_header *h;
	uint64_t saved, size;
	int fd;

	assert_int_equal(mr_region_open(&f->r, f->tmp.path, true, SMALL_LEGS, SMALL_WORKERS), 0);
	saved = f->r.hdr->magic;
	f->r.hdr->magic ^= 1u;
	mr_region_close(&f->r);
	assert_int_equal(mr_region_open(&f->r, f->tmp.path, false, 0, 0), -EINVAL);

	/* A header that does not add up. */
	h = NULL;
	assert_int_equal(mr_shm_attach(f->tmp.path, &h, &size), -EINVAL);
	assert_null(h);
	fd = open(f->tmp.path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(pwrite(fd, &saved, sizeof(saved), 0), (ssize_t)sizeof(saved));
	assert_int_equal(mr_shm_attach(f->tmp.path, &h, &size), 0);
	h->max_legs = SMALL_LEGS * 2;
	munmap(h, size);
	assert_int_equal(mr_region_open(&f->r, f->tmp.path, false, 0, 0), -EINVAL);

	/* A valid header, but a ring whose geometry could overrun the mapping. */
	assert_int_equal(pwrite(fd, &legs, sizeof(legs), offsetof(struct mr_shm_header, max_legs)),
			 (ssize_t)sizeof(legs));
	close(fd);
	assert_int_equal(mr_shm_attach(f->tmp.path, &h, &size), 0);
	mr_shm_cmd_ring(h)->size = 1u << 30;
	munmap(h, size);
	assert_int_equal(mr_region_open(&f->r, f->tmp.path, false, 0, 0), -EINVAL);

	/* Junk, and a file too short for a header. */
	write_file(f->other, junk, sizeof(junk));
	assert_int_equal(mr_region_open(&f->r, f->other, false, 0, 0), -EINVAL);
	write_file(f->other, junk, 16);
	assert_int_equal(mr_region_open(&f->r, f->other, true, 8, 1), -EINVAL);
}

/* --- lock ------------------------------------------------------------------ */

static void
test_lock(void **state)
{
	struct fixture *f = *state;
	struct mr_leg_slot leg;
	int fd;

	assert_int_equal(mr_region_open(&f->r, f->tmp.path, true, SMALL_LEGS, SMALL_WORKERS), 0);
	leg_init(&leg, 1);
	/* Writes need the lock. */
	assert_int_equal(mr_region_leg_write(&f->r, 0, &leg), -ENOLCK);
	assert_int_equal(mr_region_leg_delete(&f->r, 0), -ENOLCK);
	assert_int_equal(mr_region_sync(&f->r, 0, NULL, NULL), -ENOLCK);
	expect_no_cmd(&f->r);
	assert_int_equal(mr_shm_slot(f->r.hdr, 0)->state, MR_LEG_FREE);

	assert_int_equal(mr_region_lock(&f->r), 0);
	assert_true(f->r.lock_fd >= 0);
	assert_int_equal(mr_region_lock(&f->r), -EDEADLK);
	/* Another open file description of the region cannot take it. */
	fd = open(f->tmp.path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), -1);
	assert_int_equal(errno, EWOULDBLOCK);
	mr_region_unlock(&f->r);
	assert_int_equal(f->r.lock_fd, -1);
	mr_region_unlock(&f->r);        /* twice is fine */
	assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
	close(fd);

	/* The path now names another file: locking it would protect nothing. */
	assert_int_equal(rename(f->tmp.path, f->other), 0);
	assert_int_equal(mr_region_open(&(struct mr_region){ .lock_fd = -1 }, f->tmp.path, false,
					0, 0), -ENOENT);
	{
		struct mr_region fresh;

		assert_int_equal(mr_region_open(&fresh, f->tmp.path, true, 8, 1), 0);
		assert_int_equal(mr_region_lock(&f->r), -ESTALE);
		assert_int_equal(f->r.lock_fd, -1);
		assert_int_equal(mr_region_lock(&fresh), 0);
		mr_region_close(&fresh);        /* unlocks too */
	}
	fd = open(f->tmp.path, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
	close(fd);
}

/* --- legs ------------------------------------------------------------------ */

static void
test_write_read_roundtrip(void **state)
{
	struct fixture *f = *state;
	struct mr_region *r = open_small(f, SMALL_LEGS, SMALL_WORKERS);
	struct mr_leg_slot leg, got, want;

	leg_init(&leg, 3);
	leg_add_keys(&leg);
	leg.flags |= MR_LEG_F_ICE | MR_LEG_F_RTCP_MUX;
	leg.latch = MR_LATCH_FIRST_AUTH;
	leg.egress_slot = 4;
	snprintf(leg.ice.local_ufrag, sizeof(leg.ice.local_ufrag), "ufrag");
	snprintf(leg.ice.remote_ufrag, sizeof(leg.ice.remote_ufrag), "remote");
	leg.crypto_out.active = 1;
	/* Fields the library manages are ignored in the source. */
	leg.seq = 12345;
	leg.generation = 999;
	leg.leg_uid = 777;
	leg.state = 0;
	assert_int_equal(mr_region_leg_write(r, 3, &leg), 0);

	memset(&got, 0, sizeof(got));
	assert_int_equal(mr_region_leg_read(r, 3, &got), 0);
	memcpy(&want, &leg, sizeof(want));
	want.seq = 2;
	want.generation = 1;
	want.leg_uid = 1;
	want.state = MR_LEG_ACTIVE;
	assert_memory_equal(&got, &want, sizeof(want));
	assert_memory_equal(mr_shm_slot(r->hdr, 3), &want, sizeof(want));
	assert_int_equal(r->hdr->next_leg_uid, 2);
	expect_cmd(r, MR_CMD_LEG_SET, 3, 1);
	expect_no_cmd(r);

	/* Neighbours untouched. */
	assert_int_equal(mr_shm_slot(r->hdr, 2)->seq, 0);
	assert_int_equal(mr_shm_slot(r->hdr, 4)->seq, 0);
	assert_int_equal(mr_shm_slot(r->hdr, 4)->state, MR_LEG_FREE);

	/* Out of range. */
	assert_int_equal(mr_region_leg_write(r, SMALL_LEGS, &leg), -EINVAL);
	assert_int_equal(mr_region_leg_read(r, SMALL_LEGS, &got), -EINVAL);
	assert_int_equal(mr_region_leg_delete(r, SMALL_LEGS), -EINVAL);
	assert_int_equal(mr_region_leg_delete(r, UINT32_MAX), -EINVAL);
	expect_no_cmd(r);
}

static void
test_generation_and_uid(void **state)
{
	struct fixture *f = *state;
	struct mr_region *r = open_small(f, SMALL_LEGS, SMALL_WORKERS);
	struct mr_leg_slot leg, got;

	leg_init(&leg, 1);
	assert_int_equal(mr_region_leg_write(r, 5, &leg), 0);      /* new leg */
	assert_int_equal(mr_region_leg_read(r, 5, &got), 0);
	assert_int_equal(got.generation, 1);
	assert_int_equal(got.leg_uid, 1);

	leg.dscp = 10;
	assert_int_equal(mr_region_leg_write(r, 5, &leg), 0);      /* same leg, changed */
	assert_int_equal(mr_region_leg_read(r, 5, &got), 0);
	assert_int_equal(got.generation, 2);
	assert_int_equal(got.leg_uid, 1);
	assert_int_equal(got.dscp, 10);
	assert_int_equal(got.seq, 4);

	assert_int_equal(mr_region_leg_write(r, 6, &leg), 0);      /* another leg */
	assert_int_equal(mr_region_leg_read(r, 6, &got), 0);
	assert_int_equal(got.generation, 1);
	assert_int_equal(got.leg_uid, 2);

	assert_int_equal(mr_region_leg_delete(r, 5), 0);
	assert_int_equal(mr_region_leg_read(r, 5, &got), 0);
	assert_int_equal(got.generation, 3);
	assert_int_equal(got.leg_uid, 0);
	assert_int_equal(got.state, MR_LEG_FREE);
	assert_int_equal(mr_region_leg_delete(r, 5), -ENOENT);

	assert_int_equal(mr_region_leg_write(r, 5, &leg), 0);      /* slot reused: new leg */
	assert_int_equal(mr_region_leg_read(r, 5, &got), 0);
	assert_int_equal(got.generation, 4);
	assert_int_equal(got.leg_uid, 3);
	assert_int_equal(r->hdr->next_leg_uid, 4);

	expect_cmd(r, MR_CMD_LEG_SET, 5, 1);
	expect_cmd(r, MR_CMD_LEG_SET, 5, 2);
	expect_cmd(r, MR_CMD_LEG_SET, 6, 1);
	expect_cmd(r, MR_CMD_LEG_DEL, 5, 3);
	expect_cmd(r, MR_CMD_LEG_SET, 5, 4);
	expect_no_cmd(r);
}

static void
test_write_invalid(void **state)
{
	struct fixture *f = *state;
	struct mr_region *r = open_small(f, SMALL_LEGS, SMALL_WORKERS);
	struct mr_leg_slot good, bad, before;
	unsigned int i;

	leg_init(&good, 1);
	assert_int_equal(mr_region_leg_write(r, 2, &good), 0);
	expect_cmd(r, MR_CMD_LEG_SET, 2, 1);
	memcpy(&before, mr_shm_slot(r->hdr, 2), sizeof(before));

	for (i = 0;; i++) {
		memcpy(&bad, &good, sizeof(bad));
		switch (i) {
		case 0: bad.latch = MR_LATCH_INVALID; break;
		case 1: bad.latch = MR_LATCH_MAX; break;
		case 2: bad.flags = MR_LEG_F_ALL + 1u; break;
		case 3: bad.egress_slot = SMALL_LEGS; break;
		case 4: bad.local.family = MR_AF_NONE; break;
		case 5: bad.local.port_be = 0; break;
		case 6: bad.local.ip[7] = 1; break;             /* IPv4 with junk */
		case 7: bad.peer_rtp.family = 5; break;
		case 8: bad.peer_rtcp.port_be = 1; break;       /* port, no family */
		case 9: bad.crypto_in.active = 2; break;
		case 10: bad.crypto_out.gen[1].suite = MR_SUITE_MAX; break;
		case 11: bad.crypto_in.gen[0].key_len = MR_KEY_MAX_BYTES + 1; break;
		case 12: bad.crypto_in.gen[0].salt_len = MR_SALT_MAX_BYTES + 1; break;
		case 13: bad.crypto_in.gen[0].mki_len = MR_MKI_MAX_BYTES + 1; break;
		case 14: memset(bad.ice.local_pwd, 'x', sizeof(bad.ice.local_pwd)); break;
		case 15: bad.dscp = 64; break;
		default: goto done;
		}
		assert_int_equal(mr_region_leg_write(r, 2, &bad), -EINVAL);
		assert_int_equal(mr_region_leg_write(r, 7, &bad), -EINVAL);
	}
done:
	assert_int_equal(i, 16);
	assert_memory_equal(mr_shm_slot(r->hdr, 2), &before, sizeof(before));
	assert_int_equal(mr_shm_slot(r->hdr, 7)->seq, 0);
	assert_int_equal(mr_shm_slot(r->hdr, 7)->state, MR_LEG_FREE);
	assert_int_equal(r->hdr->next_leg_uid, 2);
	expect_no_cmd(r);
}

static void
test_delete_wipes_keys(void **state)
{
	struct fixture *f = *state;
	struct mr_region *r = open_small(f, SMALL_LEGS, SMALL_WORKERS);
	const uint8_t *raw = (const uint8_t *)mr_shm_slot(r->hdr, 9);
	const struct mr_leg_slot *s = mr_shm_slot(r->hdr, 9);
	struct mr_leg_slot leg;
	size_t i;

	leg_init(&leg, 9);
	leg_add_keys(&leg);
	assert_int_equal(mr_region_leg_write(r, 9, &leg), 0);
	assert_non_null(memchr(raw, 0xa5, sizeof(leg)));
	assert_int_equal(s->crypto_in.gen[0].key[0], 0xa5);

	assert_int_equal(mr_region_leg_delete(r, 9), 0);
	/* Nothing of the leg is left: every byte after seq and generation is 0. */
	assert_null(memchr(raw, 0xa5, sizeof(leg)));
	for (i = offsetof(struct mr_leg_slot, leg_uid); i < sizeof(leg); i++)
		assert_int_equal(raw[i], 0);
	assert_int_equal(s->state, MR_LEG_FREE);
	assert_int_equal(s->generation, 2);
	assert_int_equal(s->seq, 4);
	assert_false(mr_seq_is_odd(&s->seq));
	expect_cmd(r, MR_CMD_LEG_SET, 9, 1);
	expect_cmd(r, MR_CMD_LEG_DEL, 9, 2);
	expect_no_cmd(r);
}

static void
test_find_free(void **state)
{
	struct fixture *f = *state;
	struct mr_region *r = open_small(f, 8, 1);
	struct mr_leg_slot leg;
	uint32_t slot = 12345, i;

	leg_init(&leg, 1);
	for (i = 0; i < 8; i++) {
		assert_int_equal(mr_region_find_free(r, &slot), 0);
		assert_int_equal(slot, i);
		assert_int_equal(mr_region_leg_write(r, slot, &leg), 0);
	}
	slot = 12345;
	assert_int_equal(mr_region_find_free(r, &slot), -ENOSPC);
	assert_int_equal(slot, 12345);  /* untouched on error */
	assert_int_equal(mr_region_leg_delete(r, 5), 0);
	assert_int_equal(mr_region_leg_delete(r, 2), 0);
	assert_int_equal(mr_region_find_free(r, &slot), 0);
	assert_int_equal(slot, 2);
}

/* --- command ring ---------------------------------------------------------- */

static void
test_ring_full_resync(void **state)
{
	struct fixture *f = *state;
	struct mr_region *r = open_small(f, SMALL_LEGS, SMALL_WORKERS);
	struct mr_ring *cmds = mr_shm_cmd_ring(r->hdr);
	struct mr_leg_slot leg, got;
	uint32_t i;

	leg_init(&leg, 1);
	for (i = 0; i < MR_SHM_CMD_RING; i++)
		assert_int_equal(mr_region_leg_write(r, 1, &leg), 0);
	assert_int_equal(mr_ring_count(cmds), MR_SHM_CMD_RING);
	assert_int_equal(r->hdr->resync_req, 0);

	/* Full: the slot is still written, and a rescan is requested instead. */
	leg.dscp = 12;
	assert_int_equal(mr_region_leg_write(r, 1, &leg), 0);
	assert_int_equal(r->hdr->resync_req, 1);
	assert_int_equal(mr_region_leg_read(r, 1, &got), 0);
	assert_int_equal(got.dscp, 12);
	assert_int_equal(got.generation, MR_SHM_CMD_RING + 1u);
	assert_int_equal(mr_region_leg_delete(r, 1), 0);
	assert_int_equal(r->hdr->resync_req, 2);
	assert_int_equal(mr_shm_slot(r->hdr, 1)->state, MR_LEG_FREE);
	assert_int_equal(mr_ring_count(cmds), MR_SHM_CMD_RING);
	/* A barrier cannot be queued either, and says so. */
	assert_int_equal(mr_region_sync(r, 0, NULL, NULL), -ENOBUFS);
	assert_int_equal(r->hdr->resync_req, 2);

	/* The queued commands are the first MR_SHM_CMD_RING writes, in order. */
	for (i = 0; i < MR_SHM_CMD_RING; i++)
		expect_cmd(r, MR_CMD_LEG_SET, 1, i + 1u);
	expect_no_cmd(r);
	/* Room again: commands flow, resync_req stays where it was. */
	assert_int_equal(mr_region_leg_write(r, 1, &leg), 0);
	expect_cmd(r, MR_CMD_LEG_SET, 1, MR_SHM_CMD_RING + 3u);
	assert_int_equal(r->hdr->resync_req, 2);
}

/* --- repair ---------------------------------------------------------------- */

static void
test_repair(void **state)
{
	struct fixture *f = *state;
	struct mr_region *r = open_small(f, SMALL_LEGS, SMALL_WORKERS);
	struct mr_leg_slot leg, got;
	struct mr_leg_slot *s5 = mr_shm_slot(r->hdr, 5), *s0 = mr_shm_slot(r->hdr, 0);
	uint32_t slot;

	leg_init(&leg, 5);
	leg_add_keys(&leg);
	assert_int_equal(mr_region_leg_write(r, 5, &leg), 0);
	expect_cmd(r, MR_CMD_LEG_SET, 5, 1);

	/* Writers die mid-write: slot 5 (active, half rewritten) and slot 0
	 * (free, half written). */
	mr_seq_write_begin(&s5->seq);
	s5->dscp = 1;
	mr_seq_write_begin(&s0->seq);
	s0->state = MR_LEG_ACTIVE;
	s0->crypto_in.gen[0].key[3] = 0xa5;

	assert_int_equal(mr_region_leg_read(r, 5, &got), -EAGAIN);
	assert_int_equal(mr_region_leg_read(r, 0, &got), -EAGAIN);
	/* A torn slot is not free. */
	assert_int_equal(mr_region_find_free(r, &slot), 0);
	assert_int_equal(slot, 1);

	assert_int_equal(mr_region_repair(r), 2);
	expect_cmd(r, MR_CMD_LEG_DEL, 0, 1);
	expect_cmd(r, MR_CMD_LEG_DEL, 5, 2);
	expect_no_cmd(r);
	assert_int_equal(mr_region_leg_read(r, 5, &got), 0);
	assert_int_equal(got.state, MR_LEG_FREE);
	assert_int_equal(got.generation, 2);
	assert_int_equal(got.seq, 4);
	assert_null(memchr(s5, 0xa5, sizeof(*s5)));
	assert_null(memchr(s0, 0xa5, sizeof(*s0)));
	assert_int_equal(mr_region_leg_read(r, 0, &got), 0);
	assert_int_equal(got.state, MR_LEG_FREE);
	assert_int_equal(got.seq, 2);
	assert_int_equal(mr_region_repair(r), 0);
	expect_no_cmd(r);
	assert_int_equal(mr_region_find_free(r, &slot), 0);
	assert_int_equal(slot, 0);

	/* Writing over a torn slot without a repair first: a new leg, and the
	 * counter ends even. */
	mr_seq_write_begin(&s5->seq);
	assert_int_equal(mr_region_leg_write(r, 5, &leg), 0);
	assert_false(mr_seq_is_odd(&s5->seq));
	assert_int_equal(mr_region_leg_read(r, 5, &got), 0);
	assert_int_equal(got.state, MR_LEG_ACTIVE);
	assert_int_equal(got.leg_uid, 2);
	/* And deleting one. */
	mr_seq_write_begin(&s5->seq);
	assert_int_equal(mr_region_leg_delete(r, 5), 0);
	assert_false(mr_seq_is_odd(&s5->seq));
	assert_null(memchr(s5, 0xa5, sizeof(*s5)));
}

/* --- dataplane part, counters, liveness ------------------------------------ */

static void
test_dp_read(void **state)
{
	struct fixture *f = *state;
	struct mr_region *r = open_small(f, SMALL_LEGS, SMALL_WORKERS);
	struct mr_leg_dp *d = mr_shm_leg_dp(r->hdr, 4);
	struct mr_leg_dp got;

	mr_seq_write_begin(&d->dseq);
	d->leg_uid = 42;
	d->latch_flags = MR_LATCHED_RTP;
	d->latched_rtp.family = MR_AF_INET;
	d->latched_rtp.ip[0] = 198;
	d->latched_rtp.port_be = htons(5004);
	mr_seq_write_end(&d->dseq);
	assert_int_equal(mr_region_leg_dp_read(r, 4, &got), 0);
	assert_memory_equal(&got, d, sizeof(got));
	assert_int_equal(mr_region_leg_dp_read(r, SMALL_LEGS, &got), -EINVAL);

	mr_seq_write_begin(&d->dseq);   /* the dataplane dies mid-write */
	memset(&got, 0x5a, sizeof(got));
	assert_int_equal(mr_region_leg_dp_read(r, 4, &got), -EAGAIN);
	assert_int_equal(got.leg_uid, 0x5a5a5a5a5a5a5a5aull);   /* untouched on error */
}

static void
test_counters_sum(void **state)
{
	struct fixture *f = *state;
	struct mr_region *r = open_small(f, SMALL_LEGS, 4);
	struct mr_leg_counters sum;
	uint32_t w;

	for (w = 0; w < 4; w++) {
		struct mr_leg_counters *c = mr_shm_counters(r->hdr, w, 7);

		c->rx_pkts = 1u + w;
		c->rx_bytes = 100u * (1u + w);
		c->tx_pkts = 10u + w;
		c->tx_bytes = 1000u;
		c->drop_src = w;
		c->drop_auth = 2;
		c->drop_other = w == 3 ? 5 : 0;
		c->last_rx_ms = w == 2 ? 9000 : 1000u + w;
	}
	/* Neighbouring legs' rows are separate. */
	mr_shm_counters(r->hdr, 1, 8)->rx_pkts = 1000000;
	mr_shm_counters(r->hdr, 1, 6)->rx_pkts = 1000000;

	mr_region_leg_counters(r, 7, &sum);
	assert_int_equal(sum.rx_pkts, 1 + 2 + 3 + 4);
	assert_int_equal(sum.rx_bytes, 1000);
	assert_int_equal(sum.tx_pkts, 10 + 11 + 12 + 13);
	assert_int_equal(sum.tx_bytes, 4000);
	assert_int_equal(sum.drop_src, 0 + 1 + 2 + 3);
	assert_int_equal(sum.drop_auth, 8);
	assert_int_equal(sum.drop_other, 5);
	assert_int_equal(sum.last_rx_ms, 9000);        /* the latest, not a sum */

	mr_region_leg_counters(r, 9, &sum);
	assert_int_equal(sum.rx_pkts, 0);
	assert_int_equal(sum.last_rx_ms, 0);
	memset(&sum, 0xff, sizeof(sum));
	mr_region_leg_counters(r, SMALL_LEGS, &sum);
	assert_int_equal(sum.rx_pkts, 0);
}

static void
test_dp_alive(void **state)
{
	struct fixture *f = *state;
	struct mr_region *r = open_small(f, SMALL_LEGS, SMALL_WORKERS);
	struct mr_shm_header *h = r->hdr;
	pid_t child;
	int status;

	assert_false(mr_region_dp_alive(r, 1000));     /* never started */
	h->dp_pid = (uint32_t)getpid();
	h->dp_state = MR_DP_RUNNING;
	h->dp_heartbeat_ms = mr_now_ms();
	assert_true(mr_region_dp_alive(r, 1000));
	h->dp_state = MR_DP_STARTING;
	assert_true(mr_region_dp_alive(r, 1000));
	h->dp_heartbeat_ms = mr_now_ms() + 50;         /* a clock a hair ahead */
	assert_true(mr_region_dp_alive(r, 1000));

	h->dp_heartbeat_ms = mr_now_ms() - 5000;       /* hung */
	assert_false(mr_region_dp_alive(r, 1000));
	assert_true(mr_region_dp_alive(r, 10000));
	h->dp_heartbeat_ms = mr_now_ms();
	h->dp_state = MR_DP_DOWN;                      /* stopped cleanly */
	assert_false(mr_region_dp_alive(r, 1000));
	h->dp_state = MR_DP_RUNNING;
	h->dp_heartbeat_ms = 0;
	assert_false(mr_region_dp_alive(r, 1000));
	h->dp_heartbeat_ms = mr_now_ms();

	/* A pid that is gone. */
	child = fork();
	assert_true(child >= 0);
	if (child == 0)
		_exit(0);
	assert_int_equal(waitpid(child, &status, 0), child);
	h->dp_pid = (uint32_t)child;
	assert_false(mr_region_dp_alive(r, 1000));
	/* Values kill() would read as process groups. */
	h->dp_pid = UINT32_MAX;
	assert_false(mr_region_dp_alive(r, 1000));
	h->dp_pid = (uint32_t)INT_MAX + 1u;
	assert_false(mr_region_dp_alive(r, 1000));
}

/* --- sync ------------------------------------------------------------------ */

struct seen {
	unsigned int n;
	uint16_t types[8];
	uint32_t cookies[8];
};

static void
collect(const struct mr_event *ev, void *ctx)
{
	struct seen *s = ctx;

	if (s->n < 8) {
		s->types[s->n] = ev->type;
		s->cookies[s->n] = ev->cookie;
	}
	s->n++;
}

static void
test_sync_timeout(void **state)
{
	struct fixture *f = *state;
	struct mr_region *r = open_small(f, SMALL_LEGS, SMALL_WORKERS);
	struct mr_event ev = { .type = MR_EV_IDLE, .slot = 3 };
	struct seen seen = { 0 };
	uint64_t t0;
	struct mr_cmd c;

	/* An event already waiting is handed to the callback. */
	assert_int_equal(mr_ring_push(mr_shm_event_ring(r->hdr), &ev), 0);
	t0 = mr_now_ms();
	assert_int_equal(mr_region_sync(r, 30, collect, &seen), -ETIMEDOUT);
	assert_true(mr_now_ms() - t0 >= 30);
	assert_true(mr_now_ms() - t0 < 5000);
	assert_int_equal(seen.n, 1);
	assert_int_equal(seen.types[0], MR_EV_IDLE);
	/* The barrier is queued for whenever a dataplane comes. */
	assert_int_equal(mr_ring_pop(mr_shm_cmd_ring(r->hdr), &c), 0);
	assert_int_equal(c.op, MR_CMD_SYNC);
	expect_no_cmd(r);
	/* No callback: other events are dropped, not kept. */
	assert_int_equal(mr_ring_push(mr_shm_event_ring(r->hdr), &ev), 0);
	assert_int_equal(mr_region_sync(r, 0, NULL, NULL), -ETIMEDOUT);
	assert_int_equal(mr_ring_count(mr_shm_event_ring(r->hdr)), 0);
}

/*
 * A fake dataplane in another process: answer the first MR_CMD_SYNC with an
 * unrelated event, a stale MR_EV_SYNC, then the real one. Exit status 0 on
 * success (the child must not use cmocka).
 */
static int
fake_dp(const char *path)
{
	struct mr_shm_header *h;
	struct mr_event ev;
	struct mr_cmd c;
	uint64_t size, deadline;
	int applied = 0;

	if (mr_shm_attach(path, &h, &size) < 0)
		return 10;
	deadline = mr_now_ms() + 10000;
	while (mr_now_ms() < deadline) {
		if (mr_ring_pop(mr_shm_cmd_ring(h), &c) < 0) {
			usleep(200);
			continue;
		}
		if (c.op == MR_CMD_LEG_SET) {
			applied++;
			continue;
		}
		if (c.op != MR_CMD_SYNC)
			return 11;
		memset(&ev, 0, sizeof(ev));
		ev.type = MR_EV_LATCHED;
		ev.slot = 1;
		ev.value = (uint64_t)applied;
		if (mr_ring_push(mr_shm_event_ring(h), &ev) < 0)
			return 12;
		usleep(5000);   /* the waiter polls meanwhile */
		ev.type = MR_EV_SYNC;
		ev.cookie = c.cookie + 1u;
		if (mr_ring_push(mr_shm_event_ring(h), &ev) < 0)
			return 13;
		ev.cookie = c.cookie;
		if (mr_ring_push(mr_shm_event_ring(h), &ev) < 0)
			return 14;
		return applied == 2 ? 0 : 15;
	}
	return 16;
}

static void
test_sync_fake_dataplane(void **state)
{
	struct fixture *f = *state;
	struct mr_region *r = open_small(f, SMALL_LEGS, SMALL_WORKERS);
	struct seen seen = { 0 };
	struct mr_leg_slot leg;
	pid_t child;
	int status;

	leg_init(&leg, 1);
	assert_int_equal(mr_region_leg_write(r, 1, &leg), 0);
	assert_int_equal(mr_region_leg_write(r, 2, &leg), 0);
	child = fork();
	assert_true(child >= 0);
	if (child == 0)
		_exit(fake_dp(f->tmp.path));
	assert_int_equal(mr_region_sync(r, 10000, collect, &seen), 0);
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* Everything before our barrier, and nothing of ours, reached the callback. */
	assert_int_equal(seen.n, 2);
	assert_int_equal(seen.types[0], MR_EV_LATCHED);
	assert_int_equal(seen.types[1], MR_EV_SYNC);
	assert_int_equal(mr_ring_count(mr_shm_event_ring(r->hdr)), 0);
	expect_no_cmd(r);
}

/* --- size ------------------------------------------------------------------ */

static void
test_layout_million_legs(void **state)
{
	struct fixture *f = *state;
	const uint32_t legs = 1u << 20, workers = 4;
	struct mr_leg_counters sum;
	struct mr_leg_slot leg, got;
	struct mr_shm_layout l;
	struct stat st;

	assert_int_equal(mr_shm_layout(legs, workers, &l), 0);
	print_message("%u legs, %u workers: %llu bytes, %llu per leg\n", legs, workers,
		      (unsigned long long)l.size, (unsigned long long)(l.size / legs));
	assert_true(l.size / legs <= 1024);
	assert_true(l.off_slots % MR_SHM_ALIGN == 0 && l.off_dp % MR_SHM_ALIGN == 0 &&
		    l.off_counters % MR_SHM_ALIGN == 0 && l.off_wstats % MR_SHM_ALIGN == 0 &&
		    l.off_cmd_ring % MR_SHM_ALIGN == 0 && l.off_event_ring % MR_SHM_ALIGN == 0);
	assert_int_equal(mr_shm_layout(MR_SHM_MAX_LEGS + 1u, workers, &l), -EINVAL);

	/* Creating one is cheap: the file is sparse until slots are used. */
	assert_int_equal(mr_region_open(&f->r, f->tmp.path, true, legs, workers), 0);
	assert_int_equal(mr_region_lock(&f->r), 0);
	leg_init(&leg, 1);
	assert_int_equal(mr_region_leg_write(&f->r, legs - 1u, &leg), 0);
	assert_int_equal(mr_region_leg_write(&f->r, 0, &leg), 0);
	mr_shm_counters(f->r.hdr, workers - 1u, legs - 1u)->rx_pkts = 3;
	assert_int_equal(mr_region_leg_read(&f->r, legs - 1u, &got), 0);
	assert_int_equal(got.leg_uid, 1);
	mr_region_leg_counters(&f->r, legs - 1u, &sum);
	assert_int_equal(sum.rx_pkts, 3);
	assert_int_equal(stat(f->tmp.path, &st), 0);
	assert_int_equal((uint64_t)st.st_size, f->r.size);
	print_message("file size %lld, allocated %lld bytes\n", (long long)st.st_size,
		      (long long)st.st_blocks * 512);
	assert_true((uint64_t)st.st_blocks * 512u < 16u * 1024 * 1024);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_absent, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_attach, setup, teardown),
		cmocka_unit_test_setup_teardown(test_path_too_long, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abi_mismatch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_magic_and_layout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_read_roundtrip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_generation_and_uid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_invalid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_wipes_keys, setup, teardown),
		cmocka_unit_test_setup_teardown(test_find_free, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ring_full_resync, setup, teardown),
		cmocka_unit_test_setup_teardown(test_repair, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dp_read, setup, teardown),
		cmocka_unit_test_setup_teardown(test_counters_sum, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dp_alive, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sync_fake_dataplane, setup, teardown),
		cmocka_unit_test_setup_teardown(test_layout_million_legs, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
