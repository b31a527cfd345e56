/* motion_cpu.c - benchmark, not a test: CPU cost of the motion scorers
 * (motion.h) per camera, against a full decode of the same stream.
 *
 * Usage: motion_cpu [CLIP.mp4 [SECONDS]]
 *
 * CLIP (default: bench-1080p.mp4, 1080p25 H.264 GOP 50, made with
 * test/fixture/make_clips.sh in a temp dir that is removed afterwards) is
 * read into memory once and fed, looped to whole loops covering SECONDS
 * (60) of stream, as fast as possible with wall times advancing at the
 * clip's frame rate (simulated). Each round, 3 of them:
 *  - ffmpeg -threads 1 -stream_loop LOOPS-1 -i CLIP -f null -, as a child: the
 *    baseline, CPU from wait4()'s rusage (utime + stime);
 *  - an in-process libavcodec decode of every frame, one thread: shows
 *    that ffmpeg's own overhead is not what makes the ratio;
 *  - one MOTION_PIXELS scorer;
 *  - 16 MOTION_BITRATE scorers fed interleaved, as 16 camera threads would
 *    be, one per scorer (here one thread takes turns).
 * In-process figures are this thread's CPU time (CLOCK_THREAD_CPUTIME_ID):
 * the decoders run on one thread, so nothing is missed. Every figure is CPU
 * seconds per second of stream, as % of one core; the median of the rounds
 * is printed with the min..max. Never fails on timing. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <libavformat/avformat.h>

#include "events/motion.h"

#define ROUNDS 3
#define CAMERAS 16
#define START_US INT64_C(1700000000000000)

extern char **environ;

struct clip {
	const char *path;
	AVCodecParameters *par;
	AVRational fps;
	AVPacket **pkts;
	int n, keyframes;
	int64_t bytes;
};

static int64_t wall_us(const struct clip *c, long frame)
{
	return START_US + av_rescale(frame, INT64_C(1000000) * c->fps.den, c->fps.num);
}

static double thread_cpu(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Runs argv (PATH searched, stdin and, if quiet, stdout from/to /dev/null)
 * and waits: its exit status, or -errno if it could not be started. *cpu,
 * if given, receives the child's utime + stime. */
static int run(char *const argv[], int quiet, double *cpu)
{
	posix_spawn_file_actions_t fa;
	struct rusage ru;
	pid_t pid;
	int status, err;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	if (quiet)
		posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	err = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (err)
		return -err;
	if (wait4(pid, &status, 0, &ru) < 0)
		return -errno;
	if (cpu)
		*cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		       ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* Every packet of the clip's video stream, into memory. */
static int load_clip(struct clip *c)
{
	AVFormatContext *fmt = NULL;
	AVPacket *pkt = av_packet_alloc();
	int ret, idx;

	if (!pkt)
		return AVERROR(ENOMEM);
	if ((ret = avformat_open_input(&fmt, c->path, NULL, NULL)) < 0 ||
	    (ret = avformat_find_stream_info(fmt, NULL)) < 0 ||
	    (ret = idx = av_find_best_stream(fmt, AVMEDIA_TYPE_VIDEO, -1, -1, NULL, 0)) < 0)
		goto out;
	AVStream *st = fmt->streams[idx];
	c->fps = st->avg_frame_rate.num > 0 ? st->avg_frame_rate : st->r_frame_rate;
	c->par = avcodec_parameters_alloc();
	if (!c->par || (ret = avcodec_parameters_copy(c->par, st->codecpar)) < 0) {
		ret = ret < 0 ? ret : AVERROR(ENOMEM);
		goto out;
	}
	while ((ret = av_read_frame(fmt, pkt)) >= 0) {
		if (pkt->stream_index != idx) {
			av_packet_unref(pkt);
			continue;
		}
		AVPacket *kept = av_packet_alloc();
		AVPacket **grown = kept ? realloc(c->pkts, (c->n + 1) * sizeof(*grown)) : NULL;
		if (!grown) {
			av_packet_free(&kept);
			ret = AVERROR(ENOMEM);
			goto out;
		}
		av_packet_move_ref(kept, pkt);
		c->pkts = grown;
		c->pkts[c->n++] = kept;
		c->keyframes += !!(kept->flags & AV_PKT_FLAG_KEY);
		c->bytes += kept->size;
	}
	ret = ret == AVERROR_EOF ? 0 : ret;
	if (!ret && (!c->n || c->fps.num <= 0 || c->fps.den <= 0))
		ret = AVERROR_STREAM_NOT_FOUND;   /* nothing to feed, or no frame rate to time it by */
out:
	av_packet_free(&pkt);
	avformat_close_input(&fmt);
	return ret;
}

/* The baseline: CPU of a whole ffmpeg process decoding `loops` loops. */
static int ffmpeg_decode(const struct clip *c, int loops, double *cpu)
{
	char extra[16];
	char *argv[] = { "ffmpeg", "-nostdin", "-v", "error", "-threads", "1", "-stream_loop",
			 extra, "-i", (char *)c->path, "-f", "null", "-", NULL };

	snprintf(extra, sizeof(extra), "%d", loops - 1);
	return run(argv, 1, cpu);
}

/* Every frame decoded in process, one thread, as ffmpeg does minus its
 * process, demuxer and output. */
static int full_decode(const struct clip *c, int loops, double *cpu)
{
	const AVCodec *codec = avcodec_find_decoder(c->par->codec_id);
	AVCodecContext *dec = codec ? avcodec_alloc_context3(codec) : NULL;
	AVFrame *frame = av_frame_alloc();
	long frames = 0, total = (long)loops * c->n;
	double t0 = thread_cpu();
	int ret = dec && frame ? 0 : AVERROR(ENOMEM);

	if (!ret && (ret = avcodec_parameters_to_context(dec, c->par)) >= 0) {
		dec->thread_count = 1;
		ret = avcodec_open2(dec, codec, NULL);
	}
	for (long i = 0; ret >= 0 && i <= total; i++) {
		ret = avcodec_send_packet(dec, i < total ? c->pkts[i % c->n] : NULL);
		while (ret >= 0 && (ret = avcodec_receive_frame(dec, frame)) >= 0)
			frames++;
		if (ret == AVERROR(EAGAIN) || ret == AVERROR_EOF)
			ret = 0;
	}
	*cpu = thread_cpu() - t0;
	avcodec_free_context(&dec);
	av_frame_free(&frame);
	if (!ret && frames != total)
		ret = AVERROR_INVALIDDATA;   /* a frame was dropped: the figure would flatter */
	return ret;
}

/* One MOTION_PIXELS scorer: decodes the keyframes only. */
static int pixels(const struct clip *c, int loops, double *cpu)
{
	struct motion_opts o = { .method = MOTION_PIXELS, .tag = "bench" };
	struct motion *m;
	long total = (long)loops * c->n;
	double t0 = thread_cpu();
	int ret = motion_new(&m, &o);

	if (ret < 0)
		return ret;   /* -errno, which is an AVERROR too */
	for (long i = 0; ret >= 0 && i < total; i++)
		ret = motion_packet(m, c->par, c->pkts[i % c->n], wall_us(c, i));
	motion_finish(m);
	motion_free(m);
	*cpu = thread_cpu() - t0;
	return ret;
}

/* CAMERAS MOTION_BITRATE scorers fed in turn, each at another point of the
 * clip (cameras are not in step); the wall clock is shared. */
static int bitrate(const struct clip *c, int loops, double *cpu)
{
	struct motion_opts o = { .method = MOTION_BITRATE, .tag = "bench" };
	struct motion *m[CAMERAS] = { 0 };
	long total = (long)loops * c->n;
	double t0;
	int ret = 0;

	for (int k = 0; k < CAMERAS; k++)
		if ((ret = motion_new(&m[k], &o)) < 0)
			goto out;
	t0 = thread_cpu();
	for (long i = 0; i < total; i++)
		for (int k = 0; k < CAMERAS; k++)
			motion_packet(m[k], NULL, c->pkts[(i + (long)k * c->n / CAMERAS) % c->n],
				      wall_us(c, i));
	for (int k = 0; k < CAMERAS; k++)
		motion_finish(m[k]);
	*cpu = thread_cpu() - t0;
out:
	for (int k = 0; k < CAMERAS; k++)
		motion_free(m[k]);
	return ret;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* "median (min..max)" of the rounds, each scaled by `scale`. */
static void print_row(const char *what, const double v[ROUNDS], double scale, int digits,
		      const char *unit, const char *note)
{
	double s[ROUNDS];

	for (int r = 0; r < ROUNDS; r++)
		s[r] = v[r] * scale;
	qsort(s, ROUNDS, sizeof(*s), cmp_double);
	printf("%-36s%9.*f%-3s (%.*f..%.*f)%s\n", what, digits, s[ROUNDS / 2], unit, digits, s[0],
	       digits, s[ROUNDS - 1], note);
}

/* make_clips.sh's bench-1080p.mp4 into a fresh temp dir (its name into
 * dir, PATH_MAX bytes; "" if none was made); the clip's path, or NULL. */
static char *make_default_clip(char *dir)
{
	static char path[PATH_MAX];
	char *argv[] = { "bash", MAKE_CLIPS, dir, "bench-1080p.mp4", NULL };
	int ret;

	strcpy(dir, "/tmp/camfs-motion-XXXXXX");
	if (!mkdtemp(dir)) {
		fprintf(stderr, "motion_cpu: mkdtemp: %s\n", strerror(errno));
		dir[0] = '\0';
		return NULL;
	}
	fprintf(stderr, "motion_cpu: no clip given, making bench-1080p.mp4 in %s\n", dir);
	if ((ret = run(argv, 1, NULL)) != 0) {
		fprintf(stderr, "motion_cpu: %s failed (%s)\n", MAKE_CLIPS,
			ret < 0 ? strerror(-ret) : "see above");
		return NULL;
	}
	snprintf(path, sizeof(path), "%s/bench-1080p.mp4", dir);
	return path;
}

static int usage(void)
{
	fprintf(stderr, "usage: motion_cpu [CLIP.mp4 [SECONDS]]   (default: bench-1080p.mp4 "
			"from make_clips.sh, 60 s)\n");
	return 2;
}

int main(int argc, char **argv)
{
	char tmp[PATH_MAX] = "", *end;
	char *version[] = { "ffmpeg", "-nostdin", "-version", NULL };
	struct clip c = { 0 };
	double ff[ROUNDS], dec[ROUNDS], pix[ROUNDS], bit[ROUNDS], ratio[ROUNDS], ratio_dec[ROUNDS];
	long seconds = 60;
	int ret = 0, status = 1;

	if (argc > 3 || (argc > 1 && argv[1][0] == '-'))
		return usage();
	if (argc > 2 && ((seconds = strtol(argv[2], &end, 10)) <= 0 || *end))
		return usage();
	/* ffmpeg is the baseline (and makes the default clip): no point without it */
	if ((ret = run(version, 1, NULL)) != 0) {
		fprintf(stderr, "motion_cpu: cannot run ffmpeg (%s); install it (apt-get install "
				"ffmpeg) or put it on PATH\n", ret < 0 ? strerror(-ret) : "it failed");
		return 1;
	}
	c.path = argc > 1 ? argv[1] : make_default_clip(tmp);
	if (!c.path)
		goto out;
	if (access(c.path, R_OK) < 0) {
		fprintf(stderr, "motion_cpu: %s: %s\n", c.path, strerror(errno));
		goto out;
	}
	av_log_set_level(AV_LOG_ERROR);
	if ((ret = load_clip(&c)) < 0) {
		fprintf(stderr, "motion_cpu: %s: %s%s\n", c.path, av_err2str(ret),
			ret == AVERROR_STREAM_NOT_FOUND ? " (no video packets with a frame rate)" : "");
		goto out;
	}

	double clip_s = c.n * av_q2d(av_inv_q(c.fps));
	int loops = (int)((seconds * c.fps.num + (int64_t)c.n * c.fps.den - 1) /
			  ((int64_t)c.n * c.fps.den));   /* ceil(seconds / clip_s) */
	double stream_s = loops * clip_s;

	printf("clip %s: %s %dx%d, %.2f fps, %d packets = %.1f s, %d keyframes, %.2f Mbit/s\n",
	       c.path, avcodec_get_name(c.par->codec_id), c.par->width, c.par->height,
	       av_q2d(c.fps), c.n, clip_s, c.keyframes, c.bytes * 8 / clip_s / 1e6);
	printf("%d loops = %.1f s of stream per measurement, %d rounds; %% of one core = CPU s "
	       "per stream s\n\n", loops, stream_s, ROUNDS);
	/* Rounds, not each measurement 3 times in a row: a noisy spell on the
	 * shared machine then spreads over all of them alike. */
	for (int r = 0; r < ROUNDS; r++) {
		if ((ret = ffmpeg_decode(&c, loops, &ff[r])) != 0) {
			if (ret < 0)
				fprintf(stderr, "motion_cpu: ffmpeg: %s\n", strerror(-ret));
			else
				fprintf(stderr, "motion_cpu: ffmpeg on %s: exit status %d\n", c.path, ret);
			goto out;
		}
		ret = full_decode(&c, loops, &dec[r]);
		if (ret >= 0)
			ret = pixels(&c, loops, &pix[r]);
		if (ret >= 0)
			ret = bitrate(&c, loops, &bit[r]);
		if (ret < 0) {
			fprintf(stderr, "motion_cpu: decoding %s: %s\n", c.path, av_err2str(ret));
			goto out;
		}
		ratio[r] = pix[r] / ff[r];
		ratio_dec[r] = pix[r] / dec[r];
	}

	double pct = 100 / stream_s;
	printf("%-36s%9s    %s\n", "", "median", "(min..max)");
	print_row("ffmpeg -threads 1 -f null (process)", ff, pct, 2, "%", "");
	print_row("libavcodec decode, 1 thread", dec, pct, 2, "%", "  every frame, in process");
	print_row("motion pixels", pix, pct, 3, "%", "  keyframes only");
	print_row("  pixels / ffmpeg", ratio, 1, 4, "", "  target <= 0.25");
	print_row("  pixels / libavcodec decode", ratio_dec, 1, 4, "", "");
	print_row("motion bitrate, per camera", bit, pct / CAMERAS, 6, "%",
		  "  16 cameras; target <= 0.05%");
	print_row("  per packet", bit, 1e9 / ((double)CAMERAS * loops * c.n), 1, " ns", "");
	status = 0;
out:
	for (int i = 0; i < c.n; i++)
		av_packet_free(&c.pkts[i]);
	free(c.pkts);
	avcodec_parameters_free(&c.par);
	if (tmp[0]) {
		char path[PATH_MAX];

		snprintf(path, sizeof(path), "%s/bench-1080p.mp4", tmp);
		unlink(path);
		snprintf(path, sizeof(path), "%s/.bench-1080p.mp4.part", tmp);
		unlink(path);
		rmdir(tmp);
	}
	return status;
}
