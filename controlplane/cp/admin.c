/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The admin socket's transport (admin.h): accept, read lines, queue
 * replies. Sockets are non-blocking; a reply that does not fit the socket
 * buffer waits in the client's output buffer, and the client's further
 * requests wait until it is out, so a slow reader slows only itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "admin.h"
#include "conn.h"
#include "cp.h"
#include "log.h"

struct client {
	struct mr_conn conn;
	size_t in_len;
	char in[MR_ADMIN_LINE_MAX];
};

struct mr_admin {
	int fd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct client clients[MR_ADMIN_MAX_CLIENTS];
};

static bool
live_socket(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	bool live;

	if (fd < 0)
		return false;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	live = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return live;
}

int
mr_admin_open(const char *path, struct mr_admin **ret, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct mr_admin *a;
	char dir[sizeof(sa.sun_path)], *slash;
	struct stat st;
	mode_t old;
	unsigned int i;
	int r;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		snprintf(err, errlen, "%s: path too long for a unix socket", path);
		return -ENAMETOOLONG;
	}
	a = calloc(1, sizeof(*a));
	if (a == NULL)
		return -ENOMEM;
	for (i = 0; i < MR_ADMIN_MAX_CLIENTS; i++)
		a->clients[i].conn.fd = -1;
	memcpy(a->path, path, strlen(path) + 1);
	memcpy(sa.sun_path, path, strlen(path) + 1);

	/* The directory (e.g. /run/mrelay) may not survive a reboot: make the
	 * last component, as systemd's RuntimeDirectory= would. */
	memcpy(dir, path, strlen(path) + 1);
	slash = strrchr(dir, '/');
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
			r = -errno;
			snprintf(err, errlen, "%s: cannot create directory: %s", dir, strerror(-r));
			goto err_free;
		}
	}
	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "%s exists and is not a socket", path);
			r = -EEXIST;
			goto err_free;
		}
		if (live_socket(path)) {
			snprintf(err, errlen, "%s: another process serves this socket", path);
			r = -EADDRINUSE;
			goto err_free;
		}
		unlink(path);   /* left by a process that died */
	}
	a->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (a->fd < 0) {
		r = -errno;
		snprintf(err, errlen, "socket: %s", strerror(-r));
		goto err_free;
	}
	/* Born 0600: no window in which another user could connect. */
	old = umask(0177);
	r = bind(a->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
	umask(old);
	if (r == 0 && chmod(path, 0600) < 0)
		r = -errno;
	if (r == 0 && listen(a->fd, 16) < 0)
		r = -errno;
	if (r < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(-r));
		goto err_close;
	}
	*ret = a;
	return 0;
err_close:
	close(a->fd);
err_free:
	free(a);
	return r;
}

static void
client_drop(struct client *c)
{
	mr_conn_release(&c->conn);
	memset(c, 0, sizeof(*c));
	c->conn.fd = -1;
}

void
mr_admin_close(struct mr_admin *a)
{
	unsigned int i;

	if (a == NULL)
		return;
	for (i = 0; i < MR_ADMIN_MAX_CLIENTS; i++)
		if (a->clients[i].conn.fd >= 0)
			client_drop(&a->clients[i]);
	close(a->fd);
	unlink(a->path);
	free(a);
}

unsigned int
mr_admin_pollfds(const struct mr_admin *a, struct pollfd *fds)
{
	unsigned int i, n = 0;

	fds[n].fd = a->fd;
	fds[n++].events = POLLIN;
	for (i = 0; i < MR_ADMIN_MAX_CLIENTS; i++) {
		const struct mr_conn *c = &a->clients[i].conn;

		if (c->fd < 0)
			continue;
		fds[n].fd = c->fd;
		fds[n++].events = mr_conn_events(c);
	}
	return n;
}

static void
accept_clients(struct mr_admin *a)
{
	unsigned int i;
	int fd;

	while ((fd = accept4(a->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)) >= 0) {
		for (i = 0; i < MR_ADMIN_MAX_CLIENTS && a->clients[i].conn.fd >= 0; i++)
			;
		if (i == MR_ADMIN_MAX_CLIENTS) {
			static const char busy[] = "error: too many admin connections\n.\n";

			(void)!write(fd, busy, sizeof(busy) - 1);
			close(fd);
			mr_log(LOG_WARNING, MR_LOG_ADMIN, NULL, "refused a connection: %u are open",
			       MR_ADMIN_MAX_CLIENTS);
			continue;
		}
		a->clients[i].conn.fd = fd;
	}
}

static void
reply(struct client *c, int status, const char *err, const char *body, size_t body_len)
{
	char head[600];
	int n;

	if (status == 0)
		n = snprintf(head, sizeof(head), "ok\n");
	else
		n = snprintf(head, sizeof(head), "error: %s\n", err);
	if (mr_conn_queue(&c->conn, head, (size_t)n) < 0 ||
	    (status == 0 && body_len > 0 && mr_conn_queue(&c->conn, body, body_len) < 0) ||
	    (status == 0 && body_len > 0 && body[body_len - 1] != '\n' &&
	     mr_conn_queue(&c->conn, "\n", 1) < 0) ||
	    mr_conn_queue(&c->conn, ".\n", 2) < 0)
		c->conn.closing = true;
}

static void
run_line(struct mr_cp *cp, struct client *c, char *line)
{
	char err[512] = "";
	char *body = NULL;
	size_t body_len = 0;
	FILE *f;
	int r;

	f = open_memstream(&body, &body_len);
	if (f == NULL) {
		reply(c, -1, "out of memory", NULL, 0);
		return;
	}
	r = mr_admin_run(cp, line, f, err, sizeof(err));
	fclose(f);
	reply(c, r, err, body, body_len);
	free(body);
}

static void
read_requests(struct mr_cp *cp, struct client *c)
{
	for (;;) {
		ssize_t n = read(c->conn.fd, c->in + c->in_len, sizeof(c->in) - c->in_len);
		char *nl;

		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
			c->conn.closing = true; /* peer closed; drop once replies are out */
			return;
		}
		if (n < 0)
			return;
		c->in_len += (size_t)n;
		while ((nl = memchr(c->in, '\n', c->in_len)) != NULL) {
			size_t used = (size_t)(nl - c->in) + 1, len = used - 1;

			*nl = '\0';
			if (len > 0 && c->in[len - 1] == '\r')
				c->in[--len] = '\0';
			if (strlen(c->in) != len)
				reply(c, -1, "NUL byte in request", NULL, 0);
			else
				run_line(cp, c, c->in);
			memmove(c->in, c->in + used, c->in_len - used);
			c->in_len -= used;
		}
		if (c->in_len == sizeof(c->in)) {
			reply(c, -1, "request line too long", NULL, 0);
			c->conn.closing = true;
			c->in_len = 0;
			return;
		}
		/* One read's worth per turn: answer before reading more. */
		if (mr_conn_pending(&c->conn))
			return;
	}
}

void
mr_admin_serve(struct mr_admin *a, const struct pollfd *fds, unsigned int n, struct mr_cp *cp)
{
	unsigned int i, k;

	if (n > 0 && (fds[0].revents & POLLIN))
		accept_clients(a);
	for (i = 1; i < n; i++) {
		struct client *c = NULL;

		if (fds[i].revents == 0)
			continue;
		for (k = 0; k < MR_ADMIN_MAX_CLIENTS; k++)
			if (a->clients[k].conn.fd == fds[i].fd)
				c = &a->clients[k];
		if (c == NULL)
			continue;
		if (fds[i].revents & POLLIN)
			read_requests(cp, c);
		if (mr_conn_flush(&c->conn, fds[i].revents))
			client_drop(c);
	}
}
