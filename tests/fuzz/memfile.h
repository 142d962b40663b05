/* SPDX-License-Identifier: BSD-3-Clause */
#ifndef MR_FUZZ_MEMFILE_H
#define MR_FUZZ_MEMFILE_H

/*
 * The loaders under test read a path, so an input becomes a file that
 * lives in memory (memfd) and is named through /proc/self/fd: nothing to
 * clean up, nothing on disk, and every input starts from a fresh file.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

/* A new memfd holding @data, its path in @path; the fd (close it after). */
static inline int
mr_fuzz_memfile(const uint8_t *data, size_t size, char *path, size_t cap)
{
	int fd = memfd_create("mr-fuzz", MFD_CLOEXEC);
	size_t off = 0;
	ssize_t n;

	if (fd < 0)
		abort();
	while (off < size) {
		n = write(fd, data + off, size - off);
		if (n <= 0)
			abort();
		off += (size_t)n;
	}
	snprintf(path, cap, "/proc/self/fd/%d", fd);
	return fd;
}

/*
 * libconfig's "@include" reads another file by name (and a special one,
 * /dev/zero, forever): what it reads is not the input, so such inputs are
 * passed over.
 */
static inline int
mr_fuzz_has_include(const uint8_t *data, size_t size)
{
	static const char word[] = "@include";
	size_t i, n = sizeof(word) - 1;

	for (i = 0; i + n <= size; i++) {
		size_t k;

		for (k = 0; k < n && (data[i + k] | 0x20) == (word[k] | 0x20); k++)
			;
		if (k == n)
			return 1;
	}
	return 0;
}

#endif /* MR_FUZZ_MEMFILE_H */
