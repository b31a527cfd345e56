/* main.c - camfs: the command line and the wiring. Parses the CLI, loads
 * the config, makes the recorder (recorder.c), makes the tree and the mount
 * (fs/) around it, runs until unmounted or SIGINT/SIGTERM/SIGHUP, tears down in
 * reverse. The one file of daemon/ that includes fs/: the core never does. */
#include <errno.h>
#include <malloc.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include <fuse_lowlevel.h>
#include <libavformat/avformat.h>

#include "config.h"
#include "recorder.h"
#include "service.h"
#include "discover/discover.h"
#include "ingest/source.h"
#include "record/vfile.h"
#include "record/writer.h"
#include "util/array.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/stop.h"
#include "fs/http/server.h"
#include "fs/mount.h"
#include "fs/tree.h"

struct cli {
	char *config_path;
	char *check_config;
	char *mountpoint;
	int demo, no_mount, foreground, debug, help, version;
	int positional_config;    /* config_path came as "CONFIG MOUNTPOINT" */
	int discover;
	char *discover_timeout;   /* seconds, for --discover */
	char **overrides;         /* "-o key=value" for [camfs] keys, in order */
	int n_overrides;
	size_t overrides_cap;
};

enum { KEY_HELP, KEY_VERSION };

#define CLI_OPT(t, p) { t, offsetof(struct cli, p), 1 }
static const struct fuse_opt cli_opts[] = {
	CLI_OPT("config=%s", config_path),
	CLI_OPT("--check-config=%s", check_config),
	CLI_OPT("--check-config %s", check_config),
	CLI_OPT("--demo", demo),
	CLI_OPT("--discover", discover),
	CLI_OPT("--timeout=%s", discover_timeout),
	CLI_OPT("--timeout %s", discover_timeout),
	CLI_OPT("--no-mount", no_mount),
	CLI_OPT("-f", foreground),
	CLI_OPT("-d", debug),
	CLI_OPT("debug", debug),
	FUSE_OPT_KEY("-h", KEY_HELP),
	FUSE_OPT_KEY("--help", KEY_HELP),
	FUSE_OPT_KEY("-V", KEY_VERSION),
	FUSE_OPT_KEY("--version", KEY_VERSION),
	FUSE_OPT_END
};

static int cli_proc(void *data, const char *arg, int key, struct fuse_args *outargs)
{
	struct cli *cli = data;

	switch (key) {
	case KEY_HELP:
		cli->help = 1;
		return 0;
	case KEY_VERSION:
		cli->version = 1;
		return 0;
	case FUSE_OPT_KEY_NONOPT:
		/* mount(8) and fstab, through mount.fuse3, give the config as
		 * the device: "camfs CONFIG MOUNTPOINT -o ...". */
		if (cli->mountpoint && !cli->positional_config && !cli->config_path) {
			cli->config_path = cli->mountpoint;
			cli->positional_config = 1;
		} else if (cli->mountpoint) {
			fprintf(stderr, "camfs: unexpected argument '%s'\n", arg);
			return -1;
		}
		cli->mountpoint = strdup(arg);
		return 0;
	case FUSE_OPT_KEY_OPT: {
		const char *eq = strchr(arg, '=');
		char key_name[64];

		if (!eq || (size_t)(eq - arg) >= sizeof(key_name))
			return 1;   /* not ours: kept for FUSE */
		memcpy(key_name, arg, eq - arg);
		key_name[eq - arg] = '\0';
		if (!config_is_global_key(key_name))
			return 1;
		if (array_grow(&cli->overrides, &cli->overrides_cap, (size_t)cli->n_overrides,
			       sizeof(*cli->overrides)) < 0)
			return -1;
		cli->overrides[cli->n_overrides++] = strdup(arg);
		return 0;
	}
	}
	(void)outargs;
	return 1;
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: camfs [-f] [-d] [-o config=FILE,key=value,...] MOUNTPOINT\n"
		"       camfs CONFIG MOUNTPOINT [-o key=value,...]   (as mount -t fuse.camfs runs it)\n"
		"       camfs --demo [-o store=DIR] MOUNTPOINT\n"
		"       camfs --no-mount [-o config=FILE|--demo] ...\n"
		"       camfs --check-config FILE\n"
		"       camfs --discover [--timeout S]\n"
		"\n"
		"  --demo            record built-in synthetic cameras (no config needed)\n"
		"  --no-mount        record only; do not mount the tree\n"
		"  --check-config F  validate config file F and exit\n"
		"  --discover        find cameras on this network (ONVIF, SSDP) and print\n"
		"                    [camera NAME] sections for them; --timeout S: how long\n"
		"                    to wait for answers (default 3); ONVIF_USER and\n"
		"                    ONVIF_PASSWORD in the environment log in to cameras\n"
		"  -f                stay in the foreground\n"
		"  -d                debug output (implies -f)\n"
		"  -o config=FILE    read settings and cameras from FILE\n"
		"  -o KEY=VALUE      any [camfs] key below, overriding the file\n"
		"\n"
		"[camfs] and [camera NAME] keys (value: default):\n");
	config_print_help(out);
}

static int check_config(const char *path)
{
	struct config cfg;
	int ret;

	config_init(&cfg);
	ret = config_load(&cfg, path, stderr);
	if (ret == 0)
		ret = config_validate(&cfg, stderr);
	if (ret == 0)
		printf("%s: ok, %d camera%s\n", path, cfg.n_cameras, cfg.n_cameras == 1 ? "" : "s");
	else if (ret != -EINVAL)
		fprintf(stderr, "%s: %s\n", path, strerror(-ret));
	config_free(&cfg);
	return ret == 0 ? 0 : 1;
}

/* --discover: 0 if it ran (cameras found or not), 1 on a bad timeout or
 * no network. */
static int discover(const char *timeout)
{
	char *end = NULL;
	double seconds = timeout ? strtod(timeout, &end) : 3;

	if (timeout && (end == timeout || *end || seconds < 0.1 || seconds > 60)) {
		fprintf(stderr, "camfs: --timeout %s: give seconds, 0.1 to 60\n", timeout);
		return 1;
	}
	return discover_run((int)(seconds * 1000), stdout) < 0;
}

/* Fds kept out of the clip fd pool for everything else: the writer's
 * segments and sidecars, uploads, HTTP connections, FUSE. */
#define FD_RESERVE_MIN 128

/* Raises the soft fd limit to the hard one and bounds the fds clips hold
 * open to what leaves the reserve (a quarter, at least FD_RESERVE_MIN). */
static void size_fd_pool(void)
{
	struct rlimit rl;
	rlim_t reserve;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return;
	if (rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur == RLIM_INFINITY)
		return;
	reserve = rl.rlim_cur / 4 > FD_RESERVE_MIN ? rl.rlim_cur / 4 : FD_RESERVE_MIN;
	vfile_set_fd_budget(rl.rlim_cur > 2 * reserve ? rl.rlim_cur - reserve : rl.rlim_cur / 2);
	log_info("camfs", "fd limit %llu: clips hold at most %llu open",
		 (unsigned long long)rl.rlim_cur, (unsigned long long)vfile_fds_budget());
}

/* Builds the configuration: file, then -o overrides, then --demo cameras. */
static int load_config(struct config *cfg, const struct cli *cli)
{
	int ret = 0;

	if (cli->config_path) {
		ret = config_load(cfg, cli->config_path, stderr);
		if (ret < 0) {
			if (ret != -EINVAL)
				fprintf(stderr, "camfs: %s: %s\n", cli->config_path, strerror(-ret));
			return ret;
		}
	}
	for (int i = 0; i < cli->n_overrides; i++)
		if ((ret = config_set_option(cfg, cli->overrides[i], stderr)) < 0)
			return ret;
	if (cli->demo && (!config_add_camera(cfg, "demo-moving", "demo:moving") ||
			  !config_add_camera(cfg, "demo-static", "demo:static")))
		return -ENOMEM;
	if (cli->demo)
		cfg->store_create = true;   /* a demo may make its own store */
	if ((ret = config_validate(cfg, stderr)) < 0)
		return ret;
	if (cfg->n_cameras == 0) {
		fprintf(stderr, "camfs: no cameras: add [camera NAME] sections to the config, or use --demo\n");
		return -EINVAL;
	}
	return 0;
}

/* Mounts the tree over r and serves it until unmounted or signalled. */
static int serve(struct recorder *r, const struct config *cfg, const struct cli *cli,
		 struct fuse_args *fuse_args)
{
	struct camera **cams = recorder_cameras(r);
	struct tree *tree = NULL;
	struct mount *mnt = NULL;
	struct http_server *http = NULL;
	struct service *service = NULL;
	char *mountpoint = NULL;
	int ret;

	if ((ret = tree_new(&tree, cfg, cams, recorder_writer(r))) < 0 ||
	    (ret = mount_new(&mnt, fuse_args->argc, fuse_args->argv, cli->mountpoint,
			     cfg, cams, tree)) < 0 ||
	    (ret = http_server_new(&http, cfg, cams, tree)) < 0)
		goto out;
	/* Before daemonizing changes the working directory. */
	mountpoint = realpath(cli->mountpoint, NULL);
	writer_on_segment(recorder_writer(r), mount_file_created, mnt);
	/* A daemon's stderr is /dev/null: its lines go to syslog instead. */
	if (!cli->foreground && !cli->debug)
		log_to_syslog("camfs");
	if (fuse_daemonize(cli->foreground || cli->debug) != 0) {
		ret = -EIO;
		goto out;
	}
	if ((ret = recorder_start(r, mountpoint)) < 0 || (ret = http_server_start(http)) < 0 ||
	    (ret = service_start(&service, r, cfg)) < 0)
		goto out;
	ret = mount_run(mnt);
	log_notice("camfs", "unmounted: stopping");
out:
	service_free(service);
	/* Parked live readers get end of stream before the mount goes. */
	recorder_request_stop(r);
	writer_on_segment(recorder_writer(r), NULL, NULL);
	http_server_free(http);
	mount_free(mnt);
	tree_free(tree);
	free(mountpoint);
	return ret;
}

static bool has_browser_camera(const struct config *cfg)
{
	for (int i = 0; i < cfg->n_cameras; i++)
		if (cfg->cameras[i].push == CONFIG_PUSH_BROWSER)
			return true;
	return false;
}

/* Records until SIGINT, SIGTERM or SIGHUP, with no mount: the signals that
 * end a mounted camfs (libfuse's handlers) end this one the same way. */
static int record_only(struct recorder *r, const struct config *cfg)
{
	struct service *service = NULL;
	sigset_t signals;
	int sig, ret;

	/* The HTTP export serves the tree, which there is none of here. */
	if (cfg->http.port)
		log_warning("camfs", "--no-mount: no HTTP export on port %d%s", cfg->http.port,
			    has_browser_camera(cfg) ? ", so browser cameras cannot connect" : "");
	stop_signals_block(NULL);
	stop_signals(&signals);
	ret = recorder_start(r, NULL);
	if (ret == 0)
		ret = service_start(&service, r, cfg);
	if (ret == 0) {
		sigwait(&signals, &sig);
		log_notice("camfs", "%s: stopping", strsignal(sig));
	}
	service_free(service);
	return ret;
}

static int run(const struct config *cfg, const struct cli *cli, struct fuse_args *fuse_args)
{
	struct recorder *r = NULL;
	int ret = recorder_new(&r, cfg, &clock_system);

	if (ret == 0)
		ret = cli->no_mount ? record_only(r, cfg) : serve(r, cfg, cli, fuse_args);
	recorder_free(r);
	return ret;
}

int main(int argc, char *argv[])
{
	struct fuse_args args = FUSE_ARGS_INIT(argc, argv);
	struct cli cli = { 0 };
	struct config cfg;
	int ret = 1;

	/* Clip builds allocate tens of MB in large arrays and free them. With
	 * glibc's default, the first such free raises the mmap threshold and
	 * later ones come from the heap, whose RSS then grows build by build
	 * (79 to 153 MB over six builds of a day.mp4); fixed, it stays put. */
	mallopt(M_MMAP_THRESHOLD, 1 << 20);
	/* A peer that goes away (a hook's pipe, a socket) is an error return,
	 * never the end of the recorder; libfuse does the same when mounted. */
	signal(SIGPIPE, SIG_IGN);
	config_init(&cfg);
	if (fuse_opt_parse(&args, &cli, cli_opts, cli_proc) < 0)
		goto out;
	if (cli.help) {
		usage(stdout);
		ret = 0;
		goto out;
	}
	if (cli.version) {
		printf("camfs %s (libavformat %s)\n", CAMFS_VERSION, av_version_info());
		ret = 0;
		goto out;
	}
	if (cli.check_config) {
		ret = check_config(cli.check_config);
		goto out;
	}
	if (cli.discover) {
		ret = discover(cli.discover_timeout);
		goto out;
	}
	if (!cli.no_mount && !cli.mountpoint) {
		fprintf(stderr, "camfs: no mountpoint (or --no-mount to record only); see camfs --help\n");
		goto out;
	}
	if (load_config(&cfg, &cli) < 0)
		goto out;

	log_set_level(cli.debug ? LOG_DEBUG : cfg.log_level);
	log_route_ffmpeg();
	size_fd_pool();
	if (cfg.timezone && *cfg.timezone)
		setenv("TZ", cfg.timezone, 1);
	tzset();
	source_bound_memory();
	avformat_network_init();
	ret = run(&cfg, &cli, &args) < 0;
	avformat_network_deinit();
out:
	for (int i = 0; i < cli.n_overrides; i++)
		free(cli.overrides[i]);
	free(cli.overrides);
	free(cli.config_path);
	free(cli.check_config);
	free(cli.discover_timeout);
	free(cli.mountpoint);
	fuse_opt_free_args(&args);
	config_free(&cfg);
	return ret;
}
