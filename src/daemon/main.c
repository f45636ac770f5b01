/* SPDX-License-Identifier: BSD-2-Clause */
/* gnomond: scaffold entry point, replaced by the daemon shell (issue 4). */
#include <stdio.h>
int main(void)
{
	fprintf(stderr, "gnomond " GNOMON_VERSION ": not yet functional\n");
	return 1;
}
