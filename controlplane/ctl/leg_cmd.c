/* placeholder */
typedef int mr_placeholder_leg_cmd;
