/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Runs a libFuzzer target without libFuzzer, so the fuzz suite works with
 * gcc: every file named on the command line, or found in a directory named
 * there, is fed to LLVMFuzzerTestOneInput(), then mutated MR_FUZZ_ITERS
 * times (default 20000) with a fixed-seed generator: bit flips, byte and
 * 16-bit field overwrites, truncation, insertion, deletion. Same binary,
 * same corpus, same inputs, so a failure reproduces. Each input is copied
 * into a heap buffer of exactly its size, so an overread trips ASan.
 *
 * Exit status: 0 if all inputs ran, 1 on usage error or an empty corpus;
 * a target that finds a bug aborts.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../xorshift.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REPLAY_MAX_INPUT 4096u
#define REPLAY_MAX_GROWTH 64u
#define DEFAULT_ITERS 20000ul

static uint64_t rng_state;

static uint64_t
rng(void)
{
	return mr_test_xorshift(&rng_state);
}

static size_t
below(size_t n)
{
	return n ? (size_t)(rng() % n) : 0;
}

static void
run_one(const uint8_t *data, size_t size)
{
	uint8_t *buf = malloc(size ? size : 1);

	if (buf == NULL) {
		perror("malloc");
		exit(1);
	}
	if (size)
		memcpy(buf, data, size);
	LLVMFuzzerTestOneInput(buf, size);
	free(buf);
}

/* One mutation of buf[0..*len); buf has room for REPLAY_MAX_INPUT + REPLAY_MAX_GROWTH. */
static void
mutate(uint8_t *buf, size_t *len)
{
	static const uint8_t bytes[] = { 0x00, 0x01, 0x7f, 0x80, 0xff, 0x40, 0x45, 0x60 };
	static const uint16_t words[] = { 0x0000, 0x0001, 0x0008, 0x0014, 0x0028, 0x00ff,
					  0x7fff, 0x8000, 0xffff, 0x0800, 0x86dd, 0x0806,
					  0x8100, 0x88a8, 0x2000, 0x1fff };
	size_t n = *len, pos;

	switch (below(8)) {
	case 0:         /* flip one bit */
		if (n)
			buf[below(n)] ^= (uint8_t)(1u << below(8));
		break;
	case 1:         /* random byte */
		if (n)
			buf[below(n)] = (uint8_t)rng();
		break;
	case 2:         /* interesting byte */
		if (n)
			buf[below(n)] = bytes[below(sizeof(bytes))];
		break;
	case 3:         /* interesting 16-bit big-endian field, e.g. a length */
		if (n >= 2) {
			uint16_t w = words[below(sizeof(words) / sizeof(words[0]))];

			pos = below(n - 1);
			buf[pos] = (uint8_t)(w >> 8);
			buf[pos + 1] = (uint8_t)w;
		}
		break;
	case 4:         /* truncate */
		*len = below(n + 1);
		break;
	case 5:         /* insert a byte */
		if (n < REPLAY_MAX_INPUT + REPLAY_MAX_GROWTH) {
			pos = below(n + 1);
			memmove(buf + pos + 1, buf + pos, n - pos);
			buf[pos] = (uint8_t)rng();
			*len = n + 1;
		}
		break;
	case 6:         /* delete a byte */
		if (n) {
			pos = below(n);
			memmove(buf + pos, buf + pos + 1, n - pos - 1);
			*len = n - 1;
		}
		break;
	default:        /* add or remove a few bytes at the end */
		if (n + 8 <= REPLAY_MAX_INPUT + REPLAY_MAX_GROWTH && (rng() & 1)) {
			memset(buf + n, (int)(rng() & 0xff), 8);
			*len = n + 8;
		} else {
			*len = n > 8 ? n - 8 : 0;
		}
		break;
	}
}

static unsigned long
run_file(const char *path, unsigned long iters, unsigned long seed)
{
	static uint8_t seed_buf[REPLAY_MAX_INPUT], work[REPLAY_MAX_INPUT + REPLAY_MAX_GROWTH];
	FILE *fp = fopen(path, "rb");
	size_t size, len;
	unsigned long i, k, rounds;

	if (fp == NULL) {
		perror(path);
		exit(1);
	}
	size = fread(seed_buf, 1, sizeof(seed_buf), fp);
	fclose(fp);
	run_one(seed_buf, size);

	rng_state = 0x9e3779b97f4a7c15ull ^ (seed * 0x100000001b3ull);
	for (i = 0; i < iters; i++) {
		memcpy(work, seed_buf, size);
		len = size;
		rounds = 1 + below(4);
		for (k = 0; k < rounds; k++)
			mutate(work, &len);
		run_one(work, len);
	}
	return 1 + iters;
}

static int
is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int
skip_dot(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

int
main(int argc, char **argv)
{
	const char *env = getenv("MR_FUZZ_ITERS");
	unsigned long iters = env ? strtoul(env, NULL, 10) : DEFAULT_ITERS;
	unsigned long files = 0, execs = 0;
	int a, i, n;

	if (argc < 2) {
		fprintf(stderr, "usage: %s corpus-dir-or-file...\n", argv[0]);
		return 1;
	}
	for (a = 1; a < argc; a++) {
		struct dirent **names;

		if (!is_dir(argv[a])) {
			execs += run_file(argv[a], iters, files++);
			continue;
		}
		/* sorted, so the seed each file gets does not depend on readdir order */
		n = scandir(argv[a], &names, skip_dot, alphasort);
		if (n < 0) {
			perror(argv[a]);
			return 1;
		}
		for (i = 0; i < n; i++) {
			char path[4096];

			snprintf(path, sizeof(path), "%s/%s", argv[a], names[i]->d_name);
			if (!is_dir(path))
				execs += run_file(path, iters, files++);
			free(names[i]);
		}
		free(names);
	}
	if (files == 0) {
		fprintf(stderr, "%s: no inputs found\n", argv[0]);
		return 1;
	}
	printf("%s: %lu inputs, %lu executions, no failure\n", argv[0], files, execs);
	return 0;
}
