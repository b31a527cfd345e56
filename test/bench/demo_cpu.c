/* demo_cpu.c - CPU cost of the demo cameras: both run in real time, one
 * thread each as camfs ingests them, and the process's CPU time is printed.
 *
 * Not part of the build. From a meson build dir (here /tmp/build):
 *   gcc -O2 -o /tmp/demo_cpu test/bench/demo_cpu.c -Idaemon \
 *       /tmp/build/daemon/libcamfs-daemon.a \
 *       $(pkg-config --cflags --libs libavcodec libavutil libswscale) -lpthread -lm
 *   /tmp/demo_cpu [seconds] [url...]    (default: 20 s, demo:moving demo:static) */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <libavutil/log.h>

#include "util/clock.h"
#include "ingest/demo.h"
#include "ingest/source.h"

struct cam {
	pthread_t thread;
	struct source_opts opts;
	int64_t seconds;
	long packets;
	int64_t bytes;
	int ret;
};

static void *run(void *arg)
{
	struct cam *c = arg;
	struct source src = { .ops = &demo_source_ops, .opts = &c->opts };
	AVPacket *pkt = av_packet_alloc();
	int64_t end;

	c->ret = pkt ? demo_source_ops.open(&src, &c->opts) : AVERROR(ENOMEM);
	end = clock_monotonic_us(&clock_system) + c->seconds * 1000000;
	while (c->ret >= 0 && clock_monotonic_us(&clock_system) < end) {
		c->ret = demo_source_ops.read(&src, pkt);
		if (c->ret >= 0) {
			c->packets++;
			c->bytes += pkt->size;
			av_packet_unref(pkt);
		}
	}
	demo_source_ops.close(&src);
	av_packet_free(&pkt);
	return NULL;
}

static double cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
	static const char *const defaults[] = { "demo:moving", "demo:static" };
	int64_t seconds = argc > 1 ? atoi(argv[1]) : 20;
	int n = argc > 2 ? argc - 2 : 2;
	struct cam *cams = calloc(n, sizeof(*cams));
	double cpu0, wall0, cpu, wall;

	if (!cams || seconds <= 0)
		return 1;
	av_log_set_level(AV_LOG_ERROR);
	cpu0 = cpu_seconds();
	wall0 = clock_monotonic_us(&clock_system) / 1e6;
	for (int i = 0; i < n; i++) {
		cams[i].opts = (struct source_opts){
			.url = argc > 2 ? argv[i + 2] : defaults[i],
			.realtime = true,
			.clock = &clock_system,
			.tag = "bench",
		};
		cams[i].seconds = seconds;
		pthread_create(&cams[i].thread, NULL, run, &cams[i]);
	}
	for (int i = 0; i < n; i++)
		pthread_join(cams[i].thread, NULL);
	cpu = cpu_seconds() - cpu0;
	wall = clock_monotonic_us(&clock_system) / 1e6 - wall0;
	for (int i = 0; i < n; i++)
		printf("%-40s %ld packets, %.0f kbit/s, %s\n", cams[i].opts.url, cams[i].packets,
		       cams[i].bytes * 8 / wall / 1000, cams[i].ret < 0 ? av_err2str(cams[i].ret) : "ok");
	printf("cpu %.3f s / wall %.3f s = %.2f%% of one core\n", cpu, wall, 100 * cpu / wall);
	free(cams);
	return 0;
}
