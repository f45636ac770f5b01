/* SPDX-License-Identifier: BSD-2-Clause */
/* gnomonctl: scaffold entry point, replaced by the control tool (issue 4). */
#include <stdio.h>
int main(void)
{
	fprintf(stderr, "gnomonctl " GNOMON_VERSION ": not yet functional\n");
	return 1;
}
