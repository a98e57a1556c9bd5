/* wake.c: the floor of a wake-up on this machine, for section 8's idle
 * MQTT figures: a process that does nothing but wait on a timerfd and be
 * woken, N times every MS milliseconds. Prints its CPU per wake-up
 * (schedstat, nanoseconds) as JSON. Whatever a watcher does when it wakes,
 * it pays at least this. Usage: wake N MS */
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/timerfd.h>
#include <unistd.h>

int
main(int argc, char **argv)
{
	int n = argc > 2 ? atoi(argv[1]) : 0, ms = argc > 2 ? atoi(argv[2]) : 0;
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
	unsigned long long ns0 = 0, ns1 = 0;
	uint64_t ticks;
	FILE *f;

	if (n <= 0 || ms <= 0 || fd < 0) {
		fprintf(stderr, "usage: wake N MS\n");
		return 2;
	}
	for (int i = 0; i <= n; i++) {
		struct itimerspec its = { { 0, 0 }, { ms / 1000, (long)(ms % 1000) * 1000000L } };
		struct pollfd p = { fd, POLLIN, 0 };

		if (i == 1 && (f = fopen("/proc/self/schedstat", "r")) != NULL) {
			if (fscanf(f, "%llu", &ns0) != 1)
				ns0 = 0;
			fclose(f);
		}
		if (i == n)
			break;
		timerfd_settime(fd, 0, &its, NULL);
		poll(&p, 1, -1);
		if (read(fd, &ticks, sizeof(ticks)) < 0)
			return 1;
	}
	if ((f = fopen("/proc/self/schedstat", "r")) == NULL || fscanf(f, "%llu", &ns1) != 1)
		return 1;
	fclose(f);
	printf("{\"wakes\": %d, \"every_ms\": %d, \"ns_per_wake\": %.0f}\n", n - 1, ms,
	       (double)(ns1 - ns0) / (n - 1));
	return 0;
}
