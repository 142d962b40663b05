/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mrelayctl's commands that go through mrelay-cp's admin socket rather than
 * the region: calls, call, cp (docs/mrelayctl.md, "Admin socket"). The
 * daemon does the work and the formatting; this file sends one request line
 * and prints the reply's body.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl.h"

#define REQUEST_MAX 4096u

int
mr_ctl_admin_request(const char *sock, const char *line, bool absent_ok)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char *reply = NULL;
	size_t cap = 0;
	ssize_t len;
	bool first = true;
	int fd, rc = MR_CTL_EXIT_REGION;
	FILE *f;

	if (strlen(sock) >= sizeof(sa.sun_path)) {
		mr_ctl_err("admin socket path too long: %s", sock);
		return MR_CTL_EXIT_INPUT;
	}
	memcpy(sa.sun_path, sock, strlen(sock) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		/* No socket, or a stale one nobody listens on: no mrelay-cp. */
		if (absent_ok && fd >= 0 && (errno == ENOENT || errno == ECONNREFUSED)) {
			close(fd);
			return MR_CTL_CP_ABSENT;
		}
		mr_ctl_err("cannot reach mrelay-cp at %s: %s (is it running? -s names the socket)",
			   sock, strerror(errno));
		if (fd >= 0)
			close(fd);
		return MR_CTL_EXIT_REGION;
	}
	signal(SIGPIPE, SIG_IGN);
	if (write(fd, line, strlen(line)) != (ssize_t)strlen(line) || write(fd, "\n", 1) != 1) {
		mr_ctl_err("admin socket %s: %s", sock, strerror(errno));
		close(fd);
		return MR_CTL_EXIT_REGION;
	}
	f = fdopen(fd, "r");
	if (f == NULL) {
		close(fd);
		return MR_CTL_EXIT_REGION;
	}
	while ((len = getline(&reply, &cap, f)) > 0) {
		if (first) {
			first = false;
			if (strcmp(reply, "ok\n") == 0) {
				rc = 0;
			} else if (strncmp(reply, "error: ", 7) == 0) {
				reply[len - 1] = '\0';
				mr_ctl_err("%s", reply + 7);
				rc = MR_CTL_EXIT_INPUT;
			} else {
				mr_ctl_err("admin socket %s: unexpected reply", sock);
				rc = MR_CTL_EXIT_REGION;
				break;
			}
			continue;
		}
		if (strcmp(reply, ".\n") == 0)
			goto out;
		fputs(reply, stdout);
	}
	mr_ctl_err("admin socket %s: reply cut short", sock);
	rc = MR_CTL_EXIT_REGION;
out:
	free(reply);
	fclose(f);
	return rc;
}

/* Join @argv into one request line after @prefix; words must be plain. */
static int
join(const char *prefix, int argc, char **argv, char *buf, size_t cap)
{
	size_t off = (size_t)snprintf(buf, cap, "%s", prefix);
	int i;

	for (i = 0; i < argc; i++) {
		size_t n = strlen(argv[i]);

		if (n == 0 || strpbrk(argv[i], " \t\r\n") != NULL) {
			mr_ctl_err("'%s': words sent to mrelay-cp cannot be empty or hold blanks",
				   argv[i]);
			return -EINVAL;
		}
		if (off + 1 + n + 1 > cap) {
			mr_ctl_err("request too long");
			return -EINVAL;
		}
		if (off > 0)
			buf[off++] = ' ';
		memcpy(buf + off, argv[i], n + 1);
		off += n;
	}
	return 0;
}

static int
request(const char *sock, const char *line)
{
	return mr_ctl_admin_request(sock, line, false);
}

int
mr_ctl_calls(const char *sock, int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], "--json") == 0)
		return request(sock, "calls json");
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		mr_ctl_usage(stdout);
		return 0;
	}
	if (argc != 1) {
		mr_ctl_err("calls: expected no argument but --json");
		return MR_CTL_EXIT_INPUT;
	}
	return request(sock, "calls");
}

/* "call add|del|show|mute ..." and "cp WORDS...": passed on as they are. */
int
mr_ctl_cp(const char *sock, int argc, char **argv)
{
	char line[REQUEST_MAX];
	bool call = strcmp(argv[0], "call") == 0;

	if (argc < 2) {
		mr_ctl_err("%s: expected %s", argv[0], call ? "add, del, show or mute" :
			   "a request (status, ping, reload, ...)");
		return MR_CTL_EXIT_INPUT;
	}
	if (call && argc > 2 && strcmp(argv[argc - 1], "--json") == 0)
		argv[argc - 1] = (char *)"json";
	if (join(call ? "call" : "", argc - 1, argv + 1, line, sizeof(line)) < 0)
		return MR_CTL_EXIT_INPUT;
	return request(sock, line);
}
