/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * mrelay-dp: the DPDK primary process. Attaches to the region the control
 * side created, brings up the ports, rebuilds every flow from the region
 * (so a restarted dataplane resumes every leg, latched source included),
 * starts the workers and runs the management loop on the main lcore.
 *
 * Usage: mrelay-dp [EAL options] -- --config FILE [--region PATH] [--wait-region SECONDS]
 */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_log.h>

#include "dp.h"

RTE_LOG_REGISTER(mr_logtype_main, user.mrelay.main, INFO);
#define RTE_LOGTYPE_MR_MAIN mr_logtype_main
#define MAIN_LOG(lvl, fmt, ...) RTE_LOG(lvl, MR_MAIN, fmt "\n", ##__VA_ARGS__)


static void
on_signal(int sig)
{
	(void)sig;
	mr_dp.quit = true;
}

static void
usage(const char *prog)
{
	fprintf(stderr,
		"usage: %s [EAL options] -- --config FILE [--region PATH] [--wait-region SECONDS]\n",
		prog);
}

static int
parse_args(int argc, char **argv, const char **ret_config, const char **ret_region,
	   unsigned int *ret_wait)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "region", required_argument, NULL, 'r' },
		{ "wait-region", required_argument, NULL, 'w' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "c:r:w:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			*ret_config = optarg;
			break;
		case 'r':
			*ret_region = optarg;
			break;
		case 'w':
			*ret_wait = (unsigned int)strtoul(optarg, NULL, 10);
			break;
		default:
			return -EINVAL;
		}
	}
	return *ret_config != NULL && optind == argc ? 0 : -EINVAL;
}

int
main(int argc, char **argv)
{
	struct mr_dp *dp = &mr_dp;
	const char *config = NULL, *region = NULL;
	unsigned int wait_s = 3600;
	char err[512];
	int r;

	int sep;

	/* Our options and the configuration first: a bad file is one clear
	 * line, before EAL has printed or reserved anything. */
	for (sep = 1; sep < argc && strcmp(argv[sep], "--") != 0; sep++)
		;
	if (sep == argc || parse_args(argc - sep, argv + sep, &config, &region, &wait_s) < 0) {
		usage("mrelay-dp");
		return 1;
	}
	r = mr_config_load(config, &dp->cfg, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "mrelay-dp: %s\n", err);
		return 1;
	}
	r = rte_eal_init(sep, argv);
	if (r < 0) {
		fprintf(stderr, "mrelay-dp: EAL initialisation failed: %s\n", rte_strerror(rte_errno));
		return 1;
	}
	if (region != NULL)
		snprintf(dp->cfg.region, sizeof(dp->cfg.region), "%s", region);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	r = mr_dp_setup(dp, wait_s);
	if (r == 0)
		r = mr_dp_launch_workers(dp);
	if (r == 0)
		r = mr_mgmt_loop(dp);
	MAIN_LOG(INFO, "stopping");
	mr_dp_teardown(dp);
	rte_eal_cleanup();
	return r < 0 ? 1 : 0;
}
