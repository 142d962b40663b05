/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mrelayctl account add|list|passwd|revoke and mrelayctl cdr
 * (docs/mrelayctl.md, "account" and "cdr"). These work on the SIP
 * front-end's SQLite files directly, as mrelay-cp does (the files are made
 * for two processes: dbfile.h), so they work whether mrelay-cp runs or not.
 * Where the files are and the realm come from mrelay-cp's configuration
 * (its "sip" group), or from --accounts/--domain and --cdr.
 *
 * Passwords come from a file (never the command line, where ps shows them)
 * that only its owner may read, or from standard input; they are read with
 * read(2) into one buffer, so no stdio buffer keeps a copy, and wiped once
 * hashed. Neither passwords nor HA1s are ever printed.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "accounts.h"
#include "cdr.h"
#include "config.h"
#include "ctl.h"

#define CP_CONFIG_DEFAULT "/etc/mrelay/mrelay-cp.conf"
#define PASSWORD_MAX 1024u              /* buffer, with the NUL */
#define ISO_LEN 32

/* What the options and mrelay-cp's configuration say. */
struct where {
	const char *cp_config;          /* --cp-config */
	const char *accounts;           /* --accounts */
	const char *domain;             /* --domain */
	const char *cdr;                /* --cdr */
	const char *password_file;      /* --password-file */
	bool json;
	const char *since;              /* --since */
	struct mr_cp_config cfg;        /* loaded if needed */
	bool cfg_loaded;
};

/* Load mrelay-cp's configuration once. 0 or an exit status. */
static int
load_cp_config(struct where *w, const char *cmd)
{
	char err[1024];
	const char *path = w->cp_config != NULL ? w->cp_config : CP_CONFIG_DEFAULT;
	int r;

	if (w->cfg_loaded)
		return 0;
	r = mr_cp_config_load(path, &w->cfg, err, sizeof(err));
	if (r < 0) {
		mr_ctl_err("%s: mrelay-cp's configuration: %s%s", cmd, err,
			   w->cp_config == NULL && r == -ENOENT ?
			   " (--cp-config names it; or pass --accounts and --domain)" : "");
		return r == -EINVAL ? MR_CTL_EXIT_INPUT : MR_CTL_EXIT_REGION;
	}
	if (!w->cfg.sip.enabled) {
		mr_ctl_err("%s: %s has no \"sip\" group (SIP is off); pass --accounts and --domain "
			   "to name the files", cmd, path);
		return MR_CTL_EXIT_INPUT;
	}
	w->cfg_loaded = true;
	return 0;
}

/* The accounts database, opened for @w's realm. 0 or an exit status. */
static int
open_accounts(struct where *w, struct mr_accounts **ret)
{
	const char *path = w->accounts, *realm = w->domain;
	int r;

	if (path == NULL || realm == NULL) {
		r = load_cp_config(w, "account");
		if (r != 0)
			return r;
		if (path == NULL)
			path = w->cfg.sip.accounts_db;
		if (realm == NULL)
			realm = w->cfg.sip.domain;
	}
	r = mr_accounts_open(path, realm, ret);
	switch (r) {
	case 0:
		return 0;
	case -EXDEV:
		mr_ctl_err("account: %s was made for another SIP domain than '%s' (every password "
			   "hash depends on it)", path, realm);
		break;
	case -EINVAL:
		mr_ctl_err("account: '%s' is not a usable SIP domain", realm);
		return MR_CTL_EXIT_INPUT;
	case -ENOTSUP:
		mr_ctl_err("account: %s has a newer schema than this mrelayctl knows", path);
		break;
	case -EIO:
		mr_ctl_err("account: %s is not an accounts database (or cannot be read)", path);
		break;
	default:
		mr_ctl_err("account: cannot open %s: %s", path, strerror(-r));
		break;
	}
	return MR_CTL_EXIT_REGION;
}

/*
 * The first line of @path ("-": standard input), without its line end, into
 * @buf. Refuses a file group or others may access, an empty password, a
 * NUL byte, and one that does not fit. 0 or an exit status; @buf is wiped
 * on failure too.
 */
static int
read_password(const char *path, char *buf, size_t cap)
{
	size_t len = 0;
	struct stat st;
	ssize_t n;
	char *nl;
	int fd, r = MR_CTL_EXIT_INPUT;

	if (strcmp(path, "-") == 0) {
		fd = STDIN_FILENO;
	} else {
		fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
		if (fd < 0) {
			mr_ctl_err("password file %s: %s", path, strerror(errno));
			return MR_CTL_EXIT_INPUT;
		}
		if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
			mr_ctl_err("password file %s: not a regular file", path);
			goto out_close;
		}
		if ((st.st_mode & 077) != 0) {
			mr_ctl_err("password file %s is open to group or others (mode %04o): "
				   "chmod 600 it, or pass the password on standard input with "
				   "--password-file -", path, (unsigned int)(st.st_mode & 07777));
			goto out_close;
		}
	}
	/* Up to the first newline; what follows it is not read at all when
	 * it comes in a later chunk. */
	while (len < cap - 1) {
		n = read(fd, buf + len, cap - 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			mr_ctl_err("password file %s: %s", path, strerror(errno));
			goto out_wipe;
		}
		if (n == 0)
			break;
		if (memchr(buf + len, '\n', (size_t)n) != NULL) {
			len += (size_t)n;
			break;
		}
		len += (size_t)n;
	}
	buf[len] = '\0';
	nl = memchr(buf, '\n', len);
	if (nl == NULL && len == cap - 1) {
		mr_ctl_err("password file %s: the password is longer than %zu bytes", path, cap - 2);
		goto out_wipe;
	}
	if (nl != NULL)
		len = (size_t)(nl - buf);
	if (len > 0 && buf[len - 1] == '\r')     /* a file written on Windows */
		len--;
	explicit_bzero(buf + len, cap - len);
	if (len == 0) {
		mr_ctl_err("password file %s: the password (its first line) is empty", path);
		goto out_wipe;
	}
	if (strlen(buf) != len) {
		mr_ctl_err("password file %s: the password holds a NUL byte", path);
		goto out_wipe;
	}
	r = 0;
	goto out_close;
out_wipe:
	explicit_bzero(buf, cap);
out_close:
	if (fd != STDIN_FILENO)
		close(fd);
	return r;
}

static void
iso_time(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "%" PRId64, t);
}

/* Options of account and cdr commands; argv[0] is the subcommand. */
static int
parse_opts(int argc, char **argv, struct where *w, const char *cmd, int *ret_first)
{
	static const struct option opts[] = {
		{ "cp-config", required_argument, NULL, 'c' },
		{ "accounts", required_argument, NULL, 'a' },
		{ "domain", required_argument, NULL, 'd' },
		{ "cdr", required_argument, NULL, 'r' },
		{ "password-file", required_argument, NULL, 'p' },
		{ "since", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	optind = 0;                     /* a full reset, as the other commands do */
	while ((c = mr_ctl_getopt(argc, argv, opts, cmd)) != -1) {
		switch (c) {
		case 'c':
			w->cp_config = optarg;
			break;
		case 'a':
			w->accounts = optarg;
			break;
		case 'd':
			w->domain = optarg;
			break;
		case 'r':
			w->cdr = optarg;
			break;
		case 'p':
			w->password_file = optarg;
			break;
		case 's':
			w->since = optarg;
			break;
		case 'j':
			w->json = true;
			break;
		case 'h':
			mr_ctl_usage(stdout);
			return 1;
		default:
			return MR_CTL_EXIT_INPUT;
		}
	}
	*ret_first = optind;
	return 0;
}

/* ---- account ------------------------------------------------------------------ */

struct list_out {
	bool json;
	unsigned int n;
};

static int
print_account(void *arg, const char *name, int64_t created_s, int64_t changed_s)
{
	struct list_out *o = arg;
	char created[ISO_LEN], changed[ISO_LEN];

	iso_time(created_s, created, sizeof(created));
	iso_time(changed_s, changed, sizeof(changed));
	if (o->json) {
		fputs(o->n > 0 ? ",\n  {\"name\": " : "\n  {\"name\": ", stdout);
		mr_ctl_json_str(stdout, name);
		printf(", \"created\": \"%s\", \"changed\": \"%s\"}", created, changed);
	} else {
		printf("%-32s %s %s\n", name, created, changed);
	}
	o->n++;
	return 0;
}

static int
account_list(struct where *w)
{
	struct list_out o = { .json = w->json };
	struct mr_accounts *a = NULL;
	int r = open_accounts(w, &a);

	if (r != 0)
		return r;
	if (o.json)
		fputs("{\"accounts\": [", stdout);
	else
		printf("%-32s %-20s %s\n", "NAME", "CREATED", "CHANGED");
	r = mr_accounts_list(a, print_account, &o);
	if (o.json)
		fputs(o.n > 0 ? "\n]}\n" : "]}\n", stdout);
	mr_accounts_close(a);
	if (r < 0) {
		mr_ctl_err("account list: cannot read the accounts database");
		return MR_CTL_EXIT_REGION;
	}
	return 0;
}

/* add and passwd: NAME and a password file. */
static int
account_set(struct where *w, const char *op, const char *name)
{
	char password[PASSWORD_MAX];
	struct mr_accounts *a = NULL;
	bool add = strcmp(op, "add") == 0;
	int r;

	if (w->password_file == NULL) {
		mr_ctl_err("account %s: --password-file FILE is required (\"-\" reads standard "
			   "input); passwords are never taken from the command line", op);
		return MR_CTL_EXIT_INPUT;
	}
	/* The password first: a refused file leaves no new database behind. */
	r = read_password(w->password_file, password, sizeof(password));
	if (r != 0)
		return r;
	r = open_accounts(w, &a);
	if (r != 0) {
		explicit_bzero(password, sizeof(password));
		return r;
	}
	r = add ? mr_accounts_add(a, name, password) : mr_accounts_passwd(a, name, password);
	explicit_bzero(password, sizeof(password));
	switch (r) {
	case 0:
		printf("account %s %s\n", name, add ? "added" : "password changed");
		break;
	case -EEXIST:
		mr_ctl_err("account add: '%s' already exists (account passwd changes its password)",
			   name);
		r = MR_CTL_EXIT_INPUT;
		break;
	case -ENOENT:
		mr_ctl_err("account passwd: no account '%s'", name);
		r = MR_CTL_EXIT_INPUT;
		break;
	case -EINVAL:
		mr_ctl_err("account %s: refused", op);     /* name checked before */
		r = MR_CTL_EXIT_INPUT;
		break;
	default:
		mr_ctl_err("account %s: the accounts database could not be written: %s", op,
			   strerror(-r));
		r = MR_CTL_EXIT_REGION;
		break;
	}
	mr_accounts_close(a);
	return r;
}

static int
account_revoke(struct where *w, const char *sock, const char *name)
{
	struct mr_accounts *a = NULL;
	char line[32 + MR_ACCOUNTS_NAME_MAX];
	int r = open_accounts(w, &a);

	if (r != 0)
		return r;
	r = mr_accounts_revoke(a, name);
	mr_accounts_close(a);
	if (r == -ENOENT) {
		mr_ctl_err("account revoke: no account '%s'", name);
		return MR_CTL_EXIT_INPUT;
	}
	if (r < 0) {
		mr_ctl_err("account revoke: the accounts database could not be written: %s",
			   strerror(-r));
		return MR_CTL_EXIT_REGION;
	}
	printf("account %s revoked\n", name);
	fflush(stdout);
	/* Its registrations and calls live in mrelay-cp: end them now. */
	if (sock == NULL)
		sock = w->cfg_loaded ? w->cfg.admin_socket : MR_CTL_ADMIN_DEFAULT;
	snprintf(line, sizeof(line), "sip-revoke %s", name);
	r = mr_ctl_admin_request(sock, line, true);
	if (r == MR_CTL_CP_ABSENT) {
		printf("mrelay-cp is not running (no one at %s): no registration or call to end; "
		       "registrations do not survive its restart anyway\n", sock);
		return 0;
	}
	if (r != 0)
		mr_ctl_err("account revoke: '%s' is gone from the database, but mrelay-cp did not "
			   "end its registrations and calls (see above): they last until they "
			   "expire or end", name);
	return r == 0 ? 0 : MR_CTL_EXIT_REGION;
}

int
mr_ctl_account(const char *sock, int argc, char **argv)
{
	struct where w;
	const char *op;
	int first, r, nargs;

	memset(&w, 0, sizeof(w));
	if (argc < 2) {
		mr_ctl_err("account: expected add, list, passwd or revoke");
		return MR_CTL_EXIT_INPUT;
	}
	op = argv[1];
	r = parse_opts(argc - 1, argv + 1, &w, "account", &first);
	if (r != 0)
		return r == 1 ? 0 : r;
	nargs = argc - 1 - first;
	if (strcmp(op, "list") == 0) {
		if (nargs != 0) {
			mr_ctl_err("account list: takes no NAME");
			return MR_CTL_EXIT_INPUT;
		}
		return account_list(&w);
	}
	if (strcmp(op, "add") != 0 && strcmp(op, "passwd") != 0 && strcmp(op, "revoke") != 0) {
		mr_ctl_err("account: unknown subcommand '%s' (add, list, passwd, revoke)", op);
		return MR_CTL_EXIT_INPUT;
	}
	if (nargs != 1) {
		mr_ctl_err("account %s: expected one NAME", op);
		return MR_CTL_EXIT_INPUT;
	}
	if (!mr_accounts_name_valid(argv[1 + first])) {
		mr_ctl_err("account %s: '%s' is not a valid name (1..%u of A-Z a-z 0-9 - _ . ! ~ "
			   "* ' ( ))", op, argv[1 + first], MR_ACCOUNTS_NAME_MAX);
		return MR_CTL_EXIT_INPUT;
	}
	if (w.password_file != NULL && strcmp(op, "revoke") == 0) {
		mr_ctl_err("account revoke: takes no --password-file");
		return MR_CTL_EXIT_INPUT;
	}
	if (strcmp(op, "revoke") == 0)
		return account_revoke(&w, sock, argv[1 + first]);
	return account_set(&w, op, argv[1 + first]);
}

/* ---- cdr ------------------------------------------------------------------------ */

/* "YYYY-MM-DD" or "YYYY-MM-DDTHH:MM:SSZ", UTC. */
static int
parse_iso(const char *s, int64_t *ret)
{
	struct tm tm;
	const char *end;

	memset(&tm, 0, sizeof(tm));
	end = strptime(s, "%Y-%m-%d", &tm);
	if (end != NULL && *end == 'T')
		end = strptime(end, "T%H:%M:%SZ", &tm);
	if (end == NULL || *end != '\0') {
		mr_ctl_err("cdr: --since '%s' is not YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC)", s);
		return -EINVAL;
	}
	*ret = (int64_t)timegm(&tm);
	return 0;
}

static int
print_cdr(void *arg, const struct mr_cdr_row *row)
{
	struct list_out *o = arg;
	char start[ISO_LEN], answer[ISO_LEN], end[ISO_LEN];

	iso_time(row->start_s, start, sizeof(start));
	iso_time(row->end_s, end, sizeof(end));
	if (row->answer_s != 0)
		iso_time(row->answer_s, answer, sizeof(answer));
	if (!o->json) {
		printf("%s %s %u %s %us ", start, end, row->sip_status, row->end_reason,
		       row->duration_s);
		printf("%s -> %s call-id %s ", row->caller, row->callee, row->call_id);
		printf("pkts %" PRIu64 "/%" PRIu64 " bytes %" PRIu64 "/%" PRIu64 " dropped %" PRIu64
		       "\n", row->pkts_caller_to_callee, row->pkts_callee_to_caller,
		       row->bytes_caller_to_callee, row->bytes_callee_to_caller, row->pkts_dropped);
		o->n++;
		return 0;
	}
	fputs(o->n > 0 ? ",\n  {\"call_id\": " : "\n  {\"call_id\": ", stdout);
	mr_ctl_json_str(stdout, row->call_id);
	fputs(", \"caller\": ", stdout);
	mr_ctl_json_str(stdout, row->caller);
	fputs(", \"callee\": ", stdout);
	mr_ctl_json_str(stdout, row->callee);
	printf(", \"start\": \"%s\", \"answer\": ", start);
	mr_ctl_json_str(stdout, row->answer_s != 0 ? answer : NULL);
	printf(", \"end\": \"%s\", \"duration_s\": %u, \"sip_status\": %u, \"end_reason\": ", end,
	       row->duration_s, row->sip_status);
	mr_ctl_json_str(stdout, row->end_reason);
	printf(", \"pkts_caller_to_callee\": %" PRIu64 ", \"bytes_caller_to_callee\": %" PRIu64
	       ", \"pkts_callee_to_caller\": %" PRIu64 ", \"bytes_callee_to_caller\": %" PRIu64
	       ", \"pkts_dropped\": %" PRIu64 "}", row->pkts_caller_to_callee,
	       row->bytes_caller_to_callee, row->pkts_callee_to_caller,
	       row->bytes_callee_to_caller, row->pkts_dropped);
	o->n++;
	return 0;
}

int
mr_ctl_cdr(int argc, char **argv)
{
	struct list_out o = { .json = false };
	struct mr_cdr *c = NULL;
	struct where w;
	const char *path;
	int64_t since = 0;
	int first, r;

	memset(&w, 0, sizeof(w));
	r = parse_opts(argc, argv, &w, "cdr", &first);
	if (r != 0)
		return r == 1 ? 0 : r;
	if (first != argc || w.password_file != NULL || w.accounts != NULL || w.domain != NULL) {
		mr_ctl_err("cdr: expected only [--since TIME] [--json] [--cp-config PATH | --cdr PATH]");
		return MR_CTL_EXIT_INPUT;
	}
	if (w.since != NULL && parse_iso(w.since, &since) < 0)
		return MR_CTL_EXIT_INPUT;
	path = w.cdr;
	if (path == NULL) {
		r = load_cp_config(&w, "cdr");
		if (r != 0)
			return r;
		path = w.cfg.sip.cdr_db;
	}
	/* Read-only in spirit: do not create a file that is not there. */
	if (access(path, F_OK) < 0) {
		mr_ctl_err("cdr: %s: %s", path, strerror(errno));
		return MR_CTL_EXIT_REGION;
	}
	r = mr_cdr_open(path, &c);
	if (r < 0) {
		mr_ctl_err("cdr: cannot open %s: %s", path,
			   r == -EIO ? "not a CDR database" : strerror(-r));
		return MR_CTL_EXIT_REGION;
	}
	o.json = w.json;
	if (o.json)
		fputs("{\"cdrs\": [", stdout);
	r = mr_cdr_list(c, since, print_cdr, &o);
	if (o.json)
		fputs(o.n > 0 ? "\n]}\n" : "]}\n", stdout);
	mr_cdr_close(c);
	if (r < 0) {
		mr_ctl_err("cdr: cannot read %s: %s", path, strerror(-r));
		return MR_CTL_EXIT_REGION;
	}
	return 0;
}
