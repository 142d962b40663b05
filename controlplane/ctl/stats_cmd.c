/* placeholder */
typedef int mr_placeholder_stats_cmd;
