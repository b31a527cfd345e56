/* test_config.c - the config module: defaults, a full file, every error with
 * its FILE:LINE and key, ${VAR}, -o overrides, sizes, --help and the sample. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "config.h"
#include "testutil.h"

static char tzdir[PATH_MAX];

/* Writes text to a fresh temporary file; path receives its name. */
static void write_temp(const char *text, char *path, size_t n)
{
	const char *tmp = getenv("TMPDIR");
	int fd;

	snprintf(path, n, "%s/camfs-test-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* Loads text as a config file into cfg (already initialised); returns
 * config_load's result, *err the messages (free it), path the file name. */
static int load_text(struct config *cfg, const char *text, char *path, size_t n, char **err)
{
	size_t size;
	FILE *f = open_memstream(err, &size);
	int ret;

	assert_non_null(f);
	write_temp(text, path, n);
	ret = config_load(cfg, path, f);
	fclose(f);
	unlink(path);
	return ret;
}

/* The messages for text must be exactly want, with "P" standing for the
 * file name in every "P:LINE:" prefix. */
static void expect_errors(const char *text, const char *want)
{
	struct config cfg;
	char path[PATH_MAX], *err, expected[16384];
	const char *w = want;
	size_t o = 0;
	int ret;

	config_init(&cfg);
	ret = load_text(&cfg, text, path, sizeof(path), &err);
	for (; *w && o + PATH_MAX < sizeof(expected); w++) {
		if ((w == want || w[-1] == '\n') && w[0] == 'P' && w[1] == ':')
			o += (size_t)snprintf(expected + o, sizeof(expected) - o, "%s", path);
		else
			expected[o++] = *w;
	}
	expected[o] = '\0';
	assert_string_equal(err, expected);
	assert_int_equal(ret, -EINVAL);
	free(err);
	config_free(&cfg);
}

static void tz_file(const char *rel, const char *text)
{
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/%s", tzdir, rel);
	testutil_make_parents(path, tzdir);
	testutil_write_file(path, text, strlen(text), TESTUTIL_REPLACE);
}

static int make_tzdir(void **state)
{
	(void)state;
	testutil_temp_dir(tzdir, sizeof(tzdir), "tz");
	tz_file("Europe/Berlin", "TZif2 fake zone\n");
	tz_file("NotAZone", "hello\n");
	setenv("TZDIR", tzdir, 1);
	return 0;
}

static int remove_tzdir(void **state)
{
	(void)state;
	testutil_remove_tree(tzdir);
	unsetenv("TZDIR");
	return 0;
}

static void test_defaults(void **state)
{
	struct config cfg;

	(void)state;
	config_init(&cfg);
	assert_string_equal(cfg.store, "/var/lib/camfs");
	assert_int_equal(cfg.segment_seconds, 60);
	assert_int_equal(cfg.retain_days, 30);
	assert_int_equal(cfg.max_store_size, 0);
	assert_int_equal(cfg.min_free.bytes, 0);
	assert_true(cfg.min_free.percent == 5.0);
	assert_null(cfg.timezone);
	assert_int_equal(cfg.log_level, LOG_INFO);
	assert_int_equal(cfg.stall_seconds, 5);
	assert_int_equal(cfg.motion, CONFIG_MOTION_BITRATE);
	assert_int_equal(cfg.motion_threshold, 0);
	assert_int_equal(cfg.motion_min_seconds, 2);
	assert_int_equal(cfg.events_retain_days, 30);
	assert_int_equal(cfg.event_pre_roll, 5);
	assert_int_equal(cfg.event_post_roll, 10);
	assert_null(cfg.on_event);
	assert_int_equal(cfg.on_event_timeout, 30);
	assert_null(cfg.on_event_env);
	assert_int_equal(cfg.upload_max_size, 10 << 20);
	assert_int_equal(cfg.upload_max_per_day, 512 << 20);
	assert_null(cfg.cameras);
	assert_int_equal(cfg.n_cameras, 0);
	assert_int_equal(config_validate(&cfg, NULL), 0);
	config_free(&cfg);
	config_free(&cfg);      /* twice is fine */
	config_free(NULL);
}

static void test_full_file(void **state)
{
	static const char text[] =
		"\xEF\xBB\xBF; camfs test config\r\n"
		"# comment\n"
		"[camfs]\n"
		"store = /srv/camfs\n"
		"  segment_seconds = 120   ; indented, inline comment\n"
		"retain_days = 0\n"
		"max_store_size = 2T\n"
		"min_free = 10G\n"
		"timezone = Europe/Berlin\n"
		"log_level = Debug\n"
		"stall_seconds = 10\n"
		"\n"
		"[camera front-door]\n"
		"url = rtsp://user:pa;ss@192.0.2.1/stream1\n"
		"transport = udp\n"
		"retain_days = 7\n"
		"stall_seconds = 3\n"
		"\n"
		"[ camera   back_yard.2 ]\n"
		"url: rtsp://192.0.2.2/s\n"
		"retain_days =\n";
	struct config cfg;
	char path[PATH_MAX], *err;

	(void)state;
	config_init(&cfg);
	assert_int_equal(load_text(&cfg, text, path, sizeof(path), &err), 0);
	assert_string_equal(err, "");
	free(err);

	assert_string_equal(cfg.store, "/srv/camfs");
	assert_int_equal(cfg.segment_seconds, 120);
	assert_int_equal(cfg.retain_days, 0);
	assert_int_equal(cfg.max_store_size, 2LL << 40);
	assert_int_equal(cfg.min_free.bytes, 10LL << 30);
	assert_true(cfg.min_free.percent == 0);
	assert_string_equal(cfg.timezone, "Europe/Berlin");
	assert_int_equal(cfg.log_level, LOG_DEBUG);
	assert_int_equal(cfg.stall_seconds, 10);

	assert_int_equal(cfg.n_cameras, 2);
	assert_string_equal(cfg.cameras[0].name, "front-door");
	/* ';' without white space before it is part of the value. */
	assert_string_equal(cfg.cameras[0].url, "rtsp://user:pa;ss@192.0.2.1/stream1");
	assert_int_equal(cfg.cameras[0].transport, CONFIG_TRANSPORT_UDP);
	assert_int_equal(cfg.cameras[0].line, 13);
	assert_int_equal(config_camera_retain_days(&cfg, &cfg.cameras[0]), 7);
	assert_int_equal(config_camera_stall_seconds(&cfg, &cfg.cameras[0]), 3);

	assert_string_equal(cfg.cameras[1].name, "back_yard.2");
	assert_string_equal(cfg.cameras[1].url, "rtsp://192.0.2.2/s");
	assert_int_equal(cfg.cameras[1].transport, CONFIG_TRANSPORT_TCP);
	assert_int_equal(cfg.cameras[1].line, 19);
	assert_int_equal(cfg.cameras[1].retain_days, -1);
	assert_int_equal(cfg.cameras[1].stall_seconds, -1);
	assert_int_equal(config_camera_retain_days(&cfg, &cfg.cameras[1]), 0);
	assert_int_equal(config_camera_stall_seconds(&cfg, &cfg.cameras[1]), 10);

	assert_int_equal(config_validate(&cfg, NULL), 0);
	config_free(&cfg);
}

static void test_value_errors(void **state)
{
	(void)state;
	expect_errors("[camfs]\nsegment_seconds = abc\n",
		      "P:2: segment_seconds: \"abc\" is not a whole number\n");
	expect_errors("[camfs]\nsegment_seconds = 1\n",
		      "P:2: segment_seconds: \"1\" is out of range (2..3600)\n");
	expect_errors("[camfs]\nsegment_seconds = 99999999999999999999\n",
		      "P:2: segment_seconds: \"99999999999999999999\" is out of range (2..3600)\n");
	expect_errors("[camfs]\nsegment_seconds = +60\n",
		      "P:2: segment_seconds: \"+60\" is not a whole number\n");
	expect_errors("[camfs]\nstall_seconds = 5s\n",
		      "P:2: stall_seconds: \"5s\" is not a whole number\n");
	expect_errors("[camfs]\nstall_seconds = 301\n",
		      "P:2: stall_seconds: \"301\" is out of range (1..300)\n");
	expect_errors("[camfs]\nretain_days = -1\n",
		      "P:2: retain_days: \"-1\" is out of range (0..36500)\n");
	expect_errors("[camfs]\nretain_days =\n",
		      "P:2: retain_days: \"\" is not a whole number\n");
	expect_errors("[camfs]\nmax_store_size = 10X\n",
		      "P:2: max_store_size: \"10X\" is not a size (bytes, or a whole number "
		      "with a K, M, G or T suffix)\n");
	expect_errors("[camfs]\nmin_free = 100%\n",
		      "P:2: min_free: \"100%\" must be below 100%\n");
	expect_errors("[camfs]\nmin_free = lots\n",
		      "P:2: min_free: \"lots\" is not a size (bytes, or a whole number "
		      "with a K, M, G or T suffix) or a percentage\n");
	expect_errors("[camfs]\nstore = recordings\n",
		      "P:2: store: \"recordings\" is not an absolute path\n");
	expect_errors("[camfs]\nlog_level = loud\n",
		      "P:2: log_level: \"loud\" is not one of error, warning, notice, info, debug\n");

	static const char *const zones[] = { "Mars/Olympus", "NotAZone", "Europe",
					     "../Europe/Berlin", "/etc/passwd" };
	for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++) {
		char text[128], want[PATH_MAX + 128];

		snprintf(text, sizeof(text), "[camfs]\ntimezone = %s\n", zones[i]);
		snprintf(want, sizeof(want), "P:2: timezone: \"%s\" is not a known time zone "
			 "(not in %s)\n", zones[i], tzdir);
		expect_errors(text, want);
	}
	expect_errors("[camfs]\nstore = \"/srv/camfs\"\n",
		      "P:2: store: write the value without quotes\n");
	expect_errors("[camera a]\nurl = 'rtsp://u:pw@h/'\n",
		      "P:2: url: write the value without quotes\n");

	expect_errors("[camera a]\nurl = rtsp://h/\ntransport = sctp\n",
		      "P:3: transport: \"sctp\" is not tcp or udp\n");
	expect_errors("[camera a]\nurl = rtsp://h/\nretain_days = week\n",
		      "P:3: retain_days: \"week\" is not a whole number\n");
	expect_errors("[camera a]\nurl = rtsp://h/\nstall_seconds = 0\n",
		      "P:3: stall_seconds: \"0\" is out of range (1..300)\n");
}

static void test_structure_errors(void **state)
{
	(void)state;
	expect_errors("[camfs]\nbogus = 1\n", "P:2: bogus: unknown key\n");
	expect_errors("[camfs]\nsegment_seconds = 10\nsegment_seconds = 20\n",
		      "P:3: segment_seconds: is already set on line 2\n");
	expect_errors("[camfs]\nurl = rtsp://u:secret@h/\n",
		      "P:2: url: belongs in a [camera NAME] section\n");
	expect_errors("[camera a]\nurl = rtsp://h/\nstore = /x\n",
		      "P:3: store: belongs in [camfs]\n");
	expect_errors("[cameras]\nurl = x\n",
		      "P:1: [cameras]: unknown section (expected [camfs] or [camera NAME])\n");
	expect_errors("store = /x\n[camfs]\n",
		      "P:1: store: is outside any section (start with [camfs] or [camera NAME])\n");
	expect_errors("[camfs\nstore = /x\n",
		      "P:1: section header has no closing \"]\"\n");
	expect_errors("[camfs]\njust some words\n",
		      "P:2: expected \"key = value\", a [section] or a comment\n");
	expect_errors("[camfs]\n= /x\n", "P:2: expected a key before \"=\"\n");
	expect_errors("[camfs]\nstore ;= /x\n",
		      "P:2: expected \"key = value\", a [section] or a comment\n");

	char line[400], text[512];
	memset(line, 'a', 250);
	line[250] = '\0';
	snprintf(text, sizeof(text), "[camfs]\nstore = /%s\n", line);
	expect_errors(text, "P:2: store: line is longer than 198 characters\n");

	/* Camera sections. */
	expect_errors("[camera front]\nurl = rtsp://h/a\n\n[camera front]\nurl = rtsp://h/b\n",
		      "P:4: [camera front]: camera \"front\" is already defined on line 1\n");
	expect_errors("[camera a/b]\nurl = rtsp://h/\n",
		      "P:1: [camera a/b]: camera name may only use A-Z, a-z, 0-9, \".\", \"_\" and \"-\"\n");
	expect_errors("[camera my cam]\nurl = rtsp://h/\n",
		      "P:1: [camera my cam]: camera name may only use A-Z, a-z, 0-9, \".\", \"_\" and \"-\"\n");
	expect_errors("[camera .]\nurl = rtsp://h/\n",
		      "P:1: [camera .]: camera name may not be \".\" or \"..\"\n");
	expect_errors("[camera ..]\nurl = rtsp://h/\n",
		      "P:1: [camera ..]: camera name may not be \".\" or \"..\"\n");
	expect_errors("[camera]\nurl = rtsp://h/\n",
		      "P:1: [camera]: camera needs a name: [camera NAME]\n");
	memset(line, 'c', 64);
	line[64] = '\0';
	snprintf(text, sizeof(text), "[camera %s]\nurl = rtsp://h/\n", line);
	char want[512];
	snprintf(want, sizeof(want), "P:1: [camera %s]: camera name is longer than 63 characters\n",
		 line);
	expect_errors(text, want);
	line[63] = '\0';        /* 63 is fine */
	snprintf(text, sizeof(text), "[camera %s]\nurl = rtsp://h/\n[camfs]\nbogus = 1\n", line);
	expect_errors(text, "P:4: bogus: unknown key\n");

	/* url: required, never printed. */
	expect_errors("[camera front]\ntransport = tcp\n[camera back]\nurl = rtsp://h/\n",
		      "P:1: url: is required in [camera front] (or push = esp32 or browser)\n");
	expect_errors("[camera front]\n", "P:1: url: is required in [camera front] (or push = esp32 or browser)\n");
	expect_errors("[camera front]\nurl =\n", "P:2: url: is empty\n");
	expect_errors("[camera front]\nurl = hunter2\n", "P:2: url: is not a URL (scheme://host/...)\n");
	expect_errors("[camera front]\nurl = rtsp://u:hunter2@h/\nurl = rtsp://u:hunter3@h/\n",
		      "P:3: url: is already set on line 2\n");
}

/* One file, many problems: all are reported, in order, and whatever was
 * valid is loaded. */
static void test_all_errors_reported(void **state)
{
	static const char text[] =
		"[camfs]\n"                          /* 1 */
		"segment_seconds = abc\n"            /* 2 */
		"nope = 1\n"                         /* 3 */
		"retain_days = 9\n"                  /* 4 */
		"[camera ok]\n"                      /* 5 */
		"url = rtsp://u:topsecret@h/\n"      /* 6 */
		"transport = pigeon\n"               /* 7 */
		"[camera bad!]\n"                    /* 8 */
		"transport = carrier\n"              /* 9 */
		"[camera ok]\n"                      /* 10 */
		"url = rtsp://u:topsecret@h/\n";     /* 11 */
	struct config cfg;
	char path[PATH_MAX], *err, want[PATH_MAX * 8];

	(void)state;
	config_init(&cfg);
	assert_int_equal(load_text(&cfg, text, path, sizeof(path), &err), -EINVAL);
	snprintf(want, sizeof(want),
		 "%1$s:2: segment_seconds: \"abc\" is not a whole number\n"
		 "%1$s:3: nope: unknown key\n"
		 "%1$s:7: transport: \"pigeon\" is not tcp or udp\n"
		 "%1$s:8: [camera bad!]: camera name may only use A-Z, a-z, 0-9, \".\", \"_\" and \"-\"\n"
		 "%1$s:9: transport: \"carrier\" is not tcp or udp\n"
		 "%1$s:8: url: is required in [camera bad!] (or push = esp32 or browser)\n"
		 "%1$s:10: [camera ok]: camera \"ok\" is already defined on line 5\n", path);
	assert_string_equal(err, want);
	assert_null(strstr(err, "topsecret"));
	assert_int_equal(cfg.retain_days, 9);
	assert_int_equal(cfg.n_cameras, 1);
	assert_string_equal(cfg.cameras[0].url, "rtsp://u:topsecret@h/");
	free(err);
	config_free(&cfg);     /* half-loaded is fine */
}

static void test_unreadable(void **state)
{
	struct config cfg;
	char *err;
	size_t size;
	FILE *f = open_memstream(&err, &size);

	(void)state;
	config_init(&cfg);
	assert_int_equal(config_load(&cfg, "/nonexistent/camfs.conf", f), -ENOENT);
	fclose(f);
	assert_string_equal(err, "/nonexistent/camfs.conf: cannot open: No such file or directory\n");
	free(err);
	config_free(&cfg);
}

static void test_env_expansion(void **state)
{
	static const char text[] =
		"[camfs]\n"
		"store = /srv/$$cams/${CAMFS_TEST_DIR}\n"
		"[camera front]\n"
		"url = rtsp://${CAMFS_TEST_USER}:${CAMFS_TEST_PASS}@h/x\n";
	struct config cfg;
	char path[PATH_MAX], *err;

	(void)state;
	setenv("CAMFS_TEST_USER", "alice", 1);
	setenv("CAMFS_TEST_PASS", "s3cret ;x$", 1);   /* not re-expanded, not a comment */
	setenv("CAMFS_TEST_DIR", "d", 1);
	config_init(&cfg);
	assert_int_equal(load_text(&cfg, text, path, sizeof(path), &err), 0);
	assert_string_equal(err, "");
	assert_string_equal(cfg.store, "/srv/$cams/d");
	assert_string_equal(cfg.cameras[0].url, "rtsp://alice:s3cret ;x$@h/x");
	free(err);
	config_free(&cfg);

	/* Unset: names file, line, key and variable; shows no value. */
	expect_errors("[camfs]\nstore = /${CAMFS_TEST_DIR}\n[camera front]\n"
		      "url = rtsp://${CAMFS_TEST_USER}:${CAMFS_TEST_PASS}@h/${CAMFS_TEST_MISSING}\n",
		      "P:4: url: environment variable CAMFS_TEST_MISSING is not set\n");
	/* A bad value is quoted as written, not as expanded. */
	expect_errors("[camfs]\nsegment_seconds = ${CAMFS_TEST_PASS}\n",
		      "P:2: segment_seconds: \"${CAMFS_TEST_PASS}\" is not a whole number\n");
	expect_errors("[camfs]\nstore = /${CAMFS_TEST_MISSING}/${CAMFS_TEST_GONE}\n",
		      "P:2: store: environment variable CAMFS_TEST_MISSING is not set\n"
		      "P:2: store: environment variable CAMFS_TEST_GONE is not set\n");
	expect_errors("[camfs]\nstore = /a$b\n",
		      "P:2: store: \"$\" must start ${NAME} or be doubled as \"$$\"\n");
	expect_errors("[camfs]\nstore = /a$\n",
		      "P:2: store: \"$\" must start ${NAME} or be doubled as \"$$\"\n");
	expect_errors("[camfs]\nstore = /${CAMFS_TEST_DIR\n",
		      "P:2: store: \"${\" has no closing \"}\"\n");
	expect_errors("[camfs]\nstore = /${1X}\n",
		      "P:2: store: \"${1X}\" is not a valid variable name\n");
	expect_errors("[camfs]\nstore = /${}\n",
		      "P:2: store: \"${}\" is not a valid variable name\n");
	unsetenv("CAMFS_TEST_USER");
	unsetenv("CAMFS_TEST_PASS");
	unsetenv("CAMFS_TEST_DIR");
}

static char *set_option(struct config *cfg, const char *kv, int want_ret)
{
	char *err;
	size_t size;
	FILE *f = open_memstream(&err, &size);

	assert_int_equal(config_set_option(cfg, kv, f), want_ret);
	fclose(f);
	return err;
}

static void expect_option_error(const char *kv, const char *want)
{
	struct config cfg;
	char *err;

	config_init(&cfg);
	err = set_option(&cfg, kv, -EINVAL);
	assert_string_equal(err, want);
	free(err);
	config_free(&cfg);
}

static void test_overrides(void **state)
{
	struct config cfg;
	char path[PATH_MAX], *err;

	(void)state;
	config_init(&cfg);
	assert_int_equal(load_text(&cfg, "[camfs]\nstore = /from/file\nsegment_seconds = 30\n",
				   path, sizeof(path), &err), 0);
	free(err);
	free(set_option(&cfg, "store=/from/option", 0));
	free(set_option(&cfg, "segment_seconds=10", 0));
	free(set_option(&cfg, "timezone=Europe/Berlin", 0));
	free(set_option(&cfg, "log_level=warning", 0));
	assert_string_equal(cfg.store, "/from/option");
	assert_int_equal(cfg.segment_seconds, 10);
	assert_string_equal(cfg.timezone, "Europe/Berlin");
	assert_int_equal(cfg.log_level, LOG_WARNING);
	free(set_option(&cfg, "timezone=", 0));
	assert_null(cfg.timezone);
	free(set_option(&cfg, "motion=off", 0));
	assert_int_equal(cfg.motion, CONFIG_MOTION_OFF);
	free(set_option(&cfg, "motion_threshold=80", 0));
	assert_int_equal(cfg.motion_threshold, 80);
	free(set_option(&cfg, "on_event=/bin/hook 'a b'", 0));
	assert_string_equal(cfg.on_event, "/bin/hook 'a b'");
	free(set_option(&cfg, "on_event=", 0));
	assert_null(cfg.on_event);
	config_free(&cfg);

	expect_option_error("motion=", "-o: motion: \"\" is not bitrate, pixels or off\n");
	expect_option_error("motion=fast", "-o: motion: \"fast\" is not bitrate, pixels or off\n");
	expect_option_error("events_incoming=/srv/ftp", "-o: events_incoming: is a camera key: "
			    "set it under [camera NAME] in the config file\n");

	expect_option_error("segment_seconds=x", "-o: segment_seconds: \"x\" is not a whole number\n");
	expect_option_error("segment_seconds", "-o: segment_seconds: needs a value: -o segment_seconds=VALUE\n");
	expect_option_error("nokey=1", "-o: nokey: unknown option\n");
	expect_option_error("url=rtsp://u:pw@h/",
			    "-o: url: is a camera key: set it under [camera NAME] in the config file\n");
	expect_option_error("store=/${CAMFS_TEST_MISSING}",
			    "-o: store: environment variable CAMFS_TEST_MISSING is not set\n");

	assert_true(config_is_global_key("store"));
	assert_true(config_is_global_key("store=/x"));
	assert_true(config_is_global_key("min_free"));
	assert_false(config_is_global_key("url"));
	assert_false(config_is_global_key("transport"));
	assert_true(config_is_global_key("motion=off"));
	assert_true(config_is_global_key("on_event"));
	assert_false(config_is_global_key("motion_url"));
	assert_false(config_is_global_key("allow_other"));
	assert_false(config_is_global_key("config"));
	assert_false(config_is_global_key(""));
	assert_false(config_is_global_key("stor"));
}

static void check_size(const char *text, int64_t want)
{
	struct config cfg;
	char kv[128];

	config_init(&cfg);
	snprintf(kv, sizeof(kv), "max_store_size=%s", text);
	free(set_option(&cfg, kv, 0));
	assert_int_equal(cfg.max_store_size, want);
	config_free(&cfg);
}

static void check_free(const char *text, int64_t bytes, double percent)
{
	struct config cfg;
	char kv[128];

	config_init(&cfg);
	snprintf(kv, sizeof(kv), "min_free=%s", text);
	free(set_option(&cfg, kv, 0));
	assert_int_equal(cfg.min_free.bytes, bytes);
	assert_true(cfg.min_free.percent == percent);
	config_free(&cfg);
}

static void test_sizes(void **state)
{
	static const char not_size[] = "\" is not a size (bytes, or a whole number with a K, "
				       "M, G or T suffix)";
	static const char *const bad[] = { "-1", "", "1.5G", "1 G", " 1", "G", "10GB", "1P", "0x10" };
	char want[256], kv[64];

	(void)state;
	check_size("0", 0);
	check_size("1", 1);
	check_size("1k", 1024);
	check_size("1K", 1024);
	check_size("3M", 3LL << 20);
	check_size("10G", 10LL << 30);
	check_size("7T", 7LL << 40);
	check_size("9223372036854775807", INT64_MAX);
	check_size("8388607T", 8388607LL << 40);
	expect_option_error("max_store_size=9223372036854775808",
			    "-o: max_store_size: \"9223372036854775808\" is too large\n");
	expect_option_error("max_store_size=8388608T",
			    "-o: max_store_size: \"8388608T\" is too large\n");
	expect_option_error("max_store_size=99999999999999999999999",
			    "-o: max_store_size: \"99999999999999999999999\" is too large\n");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(kv, sizeof(kv), "max_store_size=%s", bad[i]);
		snprintf(want, sizeof(want), "-o: max_store_size: \"%s%s\n", bad[i], not_size);
		expect_option_error(kv, want);
	}

	check_free("5%", 0, 5);
	check_free("0", 0, 0);
	check_free("0%", 0, 0);
	check_free("12.5%", 0, 12.5);
	check_free("99.99%", 0, 99.99);
	check_free("10G", 10LL << 30, 0);
	check_free("512M", 512LL << 20, 0);
	expect_option_error("min_free=100%", "-o: min_free: \"100%\" must be below 100%\n");
	expect_option_error("min_free=250%", "-o: min_free: \"250%\" must be below 100%\n");
	expect_option_error("min_free=-5%", "-o: min_free: \"-5%\" is not a percentage (like 5%)\n");
	expect_option_error("min_free=5 %", "-o: min_free: \"5 %\" is not a percentage (like 5%)\n");
	expect_option_error("min_free=%", "-o: min_free: \"%\" is not a percentage (like 5%)\n");
	expect_option_error("min_free=5.%", "-o: min_free: \"5.%\" is not a percentage (like 5%)\n");
	expect_option_error("min_free=.5%", "-o: min_free: \".5%\" is not a percentage (like 5%)\n");
	expect_option_error("min_free=99999999999999999999T",
			    "-o: min_free: \"99999999999999999999T\" is too large\n");
}

/* Motion and event keys: set in [camfs], overridden or inherited per camera. */
static void test_motion_events_keys(void **state)
{
	static const char text[] =
		"[camfs]\n"
		"store = /srv/camfs\n"
		"motion = Pixels\n"
		"motion_threshold = 7\n"
		"motion_min_seconds = 3\n"
		"events_retain_days = 0\n"
		"event_pre_roll = 0\n"
		"event_post_roll = 300\n"
		"on_event = \"/opt/my hooks/notify\" --to 'a b' x\"y z\"\n"
		"on_event_timeout = 3600\n"
		"on_event_env = NTFY_TOKEN\thttps_proxy  _X1\n"
		"upload_max_size = 2M\n"
		"upload_max_per_day = 0\n"
		"[camera front]\n"
		"url = rtsp://h/main\n"
		"motion = off\n"
		"motion_threshold = 0\n"
		"motion_min_seconds = 1\n"
		"motion_url = rtsp://viewer:${CAMFS_TEST_PASS}@h/sub\n"
		"events_incoming = /srv/ftp/front/\n"
		"events_retain_days = 90\n"
		"[camera back]\n"
		"url = rtsp://h/main\n"
		"motion =\n"
		"motion_threshold =\n"
		"motion_url =\n"
		"events_incoming =\n"
		"events_retain_days =\n";
	struct config cfg;
	char path[PATH_MAX], *err;
	const struct camera_config *front, *back;

	(void)state;
	setenv("CAMFS_TEST_PASS", "s3cret", 1);
	config_init(&cfg);
	assert_int_equal(load_text(&cfg, text, path, sizeof(path), &err), 0);
	assert_string_equal(err, "");
	free(err);
	unsetenv("CAMFS_TEST_PASS");

	assert_int_equal(cfg.motion, CONFIG_MOTION_PIXELS);
	assert_int_equal(cfg.motion_threshold, 7);
	assert_int_equal(cfg.motion_min_seconds, 3);
	assert_int_equal(cfg.events_retain_days, 0);
	assert_int_equal(cfg.event_pre_roll, 0);
	assert_int_equal(cfg.event_post_roll, 300);
	/* Kept as written: the hook splits it. */
	assert_string_equal(cfg.on_event, "\"/opt/my hooks/notify\" --to 'a b' x\"y z\"");
	assert_int_equal(cfg.on_event_timeout, 3600);
	assert_string_equal(cfg.on_event_env, "NTFY_TOKEN\thttps_proxy  _X1");
	assert_int_equal(cfg.upload_max_size, 2 << 20);
	assert_int_equal(cfg.upload_max_per_day, 0);

	assert_int_equal(cfg.n_cameras, 2);
	front = &cfg.cameras[0];
	assert_int_equal(front->motion, CONFIG_MOTION_OFF);
	assert_int_equal(front->motion_threshold, 0);
	assert_int_equal(front->motion_min_seconds, 1);
	assert_string_equal(front->motion_url, "rtsp://viewer:s3cret@h/sub");
	assert_string_equal(front->events_incoming, "/srv/ftp/front/");
	assert_int_equal(front->events_retain_days, 90);
	assert_int_equal(config_camera_motion(&cfg, front), CONFIG_MOTION_OFF);
	assert_int_equal(config_camera_motion_threshold(&cfg, front), 0);
	assert_int_equal(config_camera_motion_min_seconds(&cfg, front), 1);
	assert_int_equal(config_camera_events_retain_days(&cfg, front), 90);

	back = &cfg.cameras[1];
	assert_int_equal(back->motion, CONFIG_MOTION_INHERIT);
	assert_int_equal(back->motion_threshold, -1);
	assert_int_equal(back->motion_min_seconds, -1);
	assert_null(back->motion_url);
	assert_null(back->events_incoming);
	assert_int_equal(back->events_retain_days, -1);
	assert_int_equal(config_camera_motion(&cfg, back), CONFIG_MOTION_PIXELS);
	assert_int_equal(config_camera_motion_threshold(&cfg, back), 7);
	assert_int_equal(config_camera_motion_min_seconds(&cfg, back), 3);
	assert_int_equal(config_camera_events_retain_days(&cfg, back), 0);

	assert_int_equal(config_validate(&cfg, NULL), 0);
	config_free(&cfg);

	/* An empty on_event is no hook; a lone command is one. */
	config_init(&cfg);
	assert_int_equal(load_text(&cfg, "[camfs]\non_event =\n", path, sizeof(path), &err), 0);
	assert_string_equal(err, "");
	free(err);
	assert_null(cfg.on_event);
	assert_int_equal(load_text(&cfg, "[camfs]\non_event = /usr/local/bin/camfs-hook\n",
				   path, sizeof(path), &err), 0);
	assert_string_equal(err, "");
	free(err);
	assert_string_equal(cfg.on_event, "/usr/local/bin/camfs-hook");
	config_free(&cfg);
}

static void test_motion_events_errors(void **state)
{
	(void)state;
	expect_errors("[camfs]\nmotion = fast\n",
		      "P:2: motion: \"fast\" is not bitrate, pixels or off\n");
	/* Only a camera can inherit. */
	expect_errors("[camfs]\nmotion =\n",
		      "P:2: motion: \"\" is not bitrate, pixels or off\n");
	expect_errors("[camfs]\nmotion_threshold = 101\n",
		      "P:2: motion_threshold: \"101\" is out of range (0..100)\n");
	expect_errors("[camfs]\nmotion_threshold = -1\n",
		      "P:2: motion_threshold: \"-1\" is out of range (0..100)\n");
	expect_errors("[camfs]\nmotion_min_seconds = 0\n",
		      "P:2: motion_min_seconds: \"0\" is out of range (1..3600)\n");
	expect_errors("[camfs]\nevents_retain_days = 36501\n",
		      "P:2: events_retain_days: \"36501\" is out of range (0..36500)\n");
	expect_errors("[camfs]\nevent_pre_roll = 301\n",
		      "P:2: event_pre_roll: \"301\" is out of range (0..300)\n");
	expect_errors("[camfs]\nevent_post_roll = soon\n",
		      "P:2: event_post_roll: \"soon\" is not a whole number\n");
	expect_errors("[camfs]\non_event_timeout = 0\n",
		      "P:2: on_event_timeout: \"0\" is out of range (1..3600)\n");
	expect_errors("[camfs]\non_event_timeout =\n",
		      "P:2: on_event_timeout: \"\" is not a whole number\n");
	expect_errors("[camfs]\nevents_incoming = /srv/ftp\n",
		      "P:2: events_incoming: belongs in a [camera NAME] section\n");

	expect_errors("[camera a]\nurl = rtsp://h/\nmotion = fast\n",
		      "P:3: motion: \"fast\" is not bitrate, pixels or off\n");
	expect_errors("[camera a]\nurl = rtsp://h/\nmotion_threshold = 101\n",
		      "P:3: motion_threshold: \"101\" is out of range (0..100)\n");
	expect_errors("[camera a]\nurl = rtsp://h/\nmotion_min_seconds = 0\n",
		      "P:3: motion_min_seconds: \"0\" is out of range (1..3600)\n");
	expect_errors("[camera a]\nurl = rtsp://h/\nevents_retain_days = forever\n",
		      "P:3: events_retain_days: \"forever\" is not a whole number\n");
	expect_errors("[camera a]\nurl = rtsp://h/\nevents_incoming = ftp/a\n",
		      "P:3: events_incoming: \"ftp/a\" is not an absolute path\n");
	expect_errors("[camera a]\nurl = rtsp://h/\nevent_pre_roll = 1\n",
		      "P:3: event_pre_roll: belongs in [camfs]\n");
	expect_errors("[camera a]\nurl = rtsp://h/\non_event = /bin/true\n",
		      "P:3: on_event: belongs in [camfs]\n");

	/* A quote left open is found at load, not at the first event. */
	expect_errors("[camfs]\non_event = /bin/notify \"a b\n",
		      "P:2: on_event: unbalanced quote\n");
	expect_errors("[camfs]\non_event = /bin/notify 'it\"s\n",
		      "P:2: on_event: unbalanced quote\n");
	expect_errors("[camfs]\non_event = \"\" x\n",
		      "P:2: on_event: has no program to run\n");

	/* Names only, and never one camfs sets itself. */
	expect_errors("[camfs]\non_event_env = TOKEN=x\n",
		      "P:2: on_event_env: \"TOKEN=x\" is not a variable name (letters, digits "
		      "and \"_\")\n");
	expect_errors("[camfs]\non_event_env = A 1B\n",
		      "P:2: on_event_env: \"1B\" is not a variable name (letters, digits "
		      "and \"_\")\n");
	expect_errors("[camfs]\non_event_env = A CAMFS_CLIP\n",
		      "P:2: on_event_env: \"CAMFS_CLIP\" is set by camfs for each event\n");
	expect_errors("[camera a]\nurl = rtsp://h/\nupload_max_size = 1M\n",
		      "P:3: upload_max_size: belongs in [camfs]\n");
	expect_errors("[camfs]\nupload_max_per_day = lots\n",
		      "P:2: upload_max_per_day: \"lots\" is not a size (bytes, or a whole number "
		      "with a K, M, G or T suffix)\n");
}

/* motion_url is a secret like url, on_event may hold a token: no message
 * about either shows its value, expanded or as written. */
static void test_secrets_never_printed(void **state)
{
	static const char text[] =
		"[camfs]\n"                                          /* 1 */
		"on_event = /bin/notify --token=tok3n \"x\n"          /* 2 */
		"on_event = /bin/notify --token=tok3n\n"             /* 3 */
		"[camera a]\n"                                       /* 4 */
		"url = rtsp://h/\n"                                  /* 5 */
		"motion_url = hunter2\n"                             /* 6 */
		"motion_url = rtsp://u:hunter2@h/sub\n"              /* 7 */
		"[camera b]\n"                                       /* 8 */
		"url = rtsp://h/\n"                                  /* 9 */
		"motion_url = 'rtsp://u:hunter2@h/sub'\n"            /* 10 */
		"[camera c]\n"                                       /* 11 */
		"url = rtsp://h/\n"                                  /* 12 */
		"motion_url = rtsp://u:${CAMFS_TEST_PASS}@h/${CAMFS_TEST_MISSING}\n"; /* 13 */
	struct config cfg;
	char path[PATH_MAX], *err, want[PATH_MAX * 8];
	size_t size;
	FILE *f;

	(void)state;
	setenv("CAMFS_TEST_PASS", "hunter2", 1);
	config_init(&cfg);
	assert_int_equal(load_text(&cfg, text, path, sizeof(path), &err), -EINVAL);
	snprintf(want, sizeof(want),
		 "%1$s:2: on_event: unbalanced quote\n"
		 "%1$s:3: on_event: is already set on line 2\n"
		 "%1$s:6: motion_url: is not a URL (scheme://host/...)\n"
		 "%1$s:7: motion_url: is already set on line 6\n"
		 "%1$s:10: motion_url: write the value without quotes\n"
		 "%1$s:13: motion_url: environment variable CAMFS_TEST_MISSING is not set\n",
		 path);
	assert_string_equal(err, want);
	assert_null(strstr(err, "hunter2"));
	assert_null(strstr(err, "tok3n"));
	free(err);
	config_free(&cfg);

	/* Nor do -o and config_validate. */
	config_init(&cfg);
	err = set_option(&cfg, "on_event=/bin/notify --token=tok3n 'x", -EINVAL);
	assert_string_equal(err, "-o: on_event: unbalanced quote\n");
	free(err);
	err = set_option(&cfg, "motion_url=rtsp://u:hunter2@h/sub", -EINVAL);
	assert_string_equal(err, "-o: motion_url: is a camera key: set it under [camera NAME] "
			    "in the config file\n");
	free(err);
	assert_int_equal(load_text(&cfg, "[camera a]\nmotion_url = rtsp://u:${CAMFS_TEST_PASS}@h/s\n",
				   path, sizeof(path), &err), -EINVAL);
	assert_null(strstr(err, "hunter2"));
	free(err);
	assert_string_equal(cfg.cameras[0].motion_url, "rtsp://u:hunter2@h/s");
	free(cfg.store);
	cfg.store = NULL;
	f = open_memstream(&err, &size);
	assert_int_equal(config_validate(&cfg, f), -EINVAL);
	fclose(f);
	assert_string_equal(err, "store: is required\n[camera a]: url: is required (or push = esp32 or browser)\n");
	free(err);
	config_free(&cfg);
	unsetenv("CAMFS_TEST_PASS");
}

static char *validate_text(const char *text, int want_ret)
{
	struct config cfg;
	char path[PATH_MAX], *err, *out;
	size_t size;
	FILE *f;

	config_init(&cfg);
	assert_int_equal(load_text(&cfg, text, path, sizeof(path), &err), 0);
	assert_string_equal(err, "");
	free(err);
	f = open_memstream(&out, &size);
	assert_int_equal(config_validate(&cfg, f), want_ret);
	fclose(f);
	config_free(&cfg);
	return out;
}

static void test_events_incoming_validate(void **state)
{
	static const char *const inside[] = {
		"/srv/camfs", "/srv/camfs/", "/srv/camfs/ftp/front", "/srv//./camfs/x",
		"/srv/ftp/../camfs/x",
	};
	static const char *const outside[] = {
		"/srv/camfs-ftp", "/srv/camfs/../ftp", "/srv/cam",
	};
	/* Uploaders may rename or replace anything in their folder. */
	static const char *const holding[] = { "/srv", "/", "/srv/./" };
	char text[256], *err;

	(void)state;
	for (size_t i = 0; i < sizeof(inside) / sizeof(inside[0]); i++) {
		snprintf(text, sizeof(text), "[camfs]\nstore = /srv/camfs\n[camera a]\n"
			 "url = rtsp://h/\nevents_incoming = %s\n", inside[i]);
		err = validate_text(text, -EINVAL);
		assert_string_equal(err, "[camera a]: events_incoming: must not be the store "
				    "or inside it\n");
		free(err);
	}
	for (size_t i = 0; i < sizeof(outside) / sizeof(outside[0]); i++) {
		snprintf(text, sizeof(text), "[camfs]\nstore = /srv/camfs/\n[camera a]\n"
			 "url = rtsp://h/\nevents_incoming = %s\n", outside[i]);
		err = validate_text(text, 0);
		assert_string_equal(err, "");
		free(err);
	}
	for (size_t i = 0; i < sizeof(holding) / sizeof(holding[0]); i++) {
		snprintf(text, sizeof(text), "[camfs]\nstore = /srv/camfs/\n[camera a]\n"
			 "url = rtsp://h/\nevents_incoming = %s\n", holding[i]);
		err = validate_text(text, -EINVAL);
		assert_string_equal(err, "[camera a]: events_incoming: must not hold the store\n");
		free(err);
	}
	/* A store of "/" holds everything. */
	err = validate_text("[camfs]\nstore = /\n[camera a]\nurl = rtsp://h/\n"
			    "events_incoming = /srv/ftp\n", -EINVAL);
	assert_string_equal(err, "[camera a]: events_incoming: must not be the store or inside it\n");
	free(err);

	/* One folder per camera, however it is spelt; named once per pair. */
	err = validate_text("[camera a]\nurl = rtsp://h/\nevents_incoming = /srv/ftp/a\n"
			    "[camera b]\nurl = rtsp://h/\nevents_incoming = /srv/ftp//a/\n"
			    "[camera c]\nurl = rtsp://h/\nevents_incoming = /srv/ftp/c\n"
			    "[camera d]\nurl = rtsp://h/\nevents_incoming = /srv/ftp/c/../a\n"
			    "[camera e]\nurl = rtsp://h/\n"
			    "[camera f]\nurl = rtsp://h/\n",
			    -EINVAL);
	assert_string_equal(err,
			    "[camera b]: events_incoming: is also camera a's; their uploads could "
			    "not be told apart\n"
			    "[camera d]: events_incoming: is also camera a's; their uploads could "
			    "not be told apart\n");
	free(err);
	err = validate_text("[camera a]\nurl = rtsp://h/\nevents_incoming = /srv/ftp/a\n"
			    "[camera b]\nurl = rtsp://h/\nevents_incoming = /srv/ftp/b\n", 0);
	assert_string_equal(err, "");
	free(err);
}

static void test_help_lists_every_key(void **state)
{
	static const char *const global[] = {
		"store", "segment_seconds", "retain_days", "max_store_size", "min_free",
		"timezone", "log_level", "stall_seconds", "motion", "motion_threshold",
		"motion_min_seconds", "events_retain_days", "event_pre_roll", "event_post_roll",
		"on_event", "on_event_timeout", "on_event_env", "upload_max_size",
		"upload_max_per_day",
	};
	static const char *const camera[] = {
		"url", "transport", "retain_days", "stall_seconds", "motion", "motion_threshold",
		"motion_min_seconds", "motion_url", "events_incoming", "events_retain_days",
	};
	char *out, *cam_part, needle[64];
	size_t size;
	FILE *f = open_memstream(&out, &size);

	(void)state;
	config_print_help(f);
	fclose(f);
	cam_part = strstr(out, "Camera keys");
	assert_non_null(cam_part);
	for (size_t i = 0; i < sizeof(global) / sizeof(global[0]); i++) {
		snprintf(needle, sizeof(needle), "    -o %s=", global[i]);
		char *at = strstr(out, needle);
		assert_non_null(at);
		assert_true(at < cam_part);
	}
	for (size_t i = 0; i < sizeof(camera) / sizeof(camera[0]); i++) {
		snprintf(needle, sizeof(needle), "\n    %s=", camera[i]);
		assert_non_null(strstr(cam_part, needle));
	}
	assert_non_null(strstr(out, "[default: /var/lib/camfs]"));
	assert_non_null(strstr(out, "[default: 60]"));
	assert_non_null(strstr(out, "[default: 5%]"));
	assert_non_null(strstr(out, "[default: info]"));
	assert_non_null(strstr(out, "[default: tcp]"));
	assert_non_null(strstr(out, "(2..3600)"));
	assert_non_null(strstr(out, "[required]"));
	assert_non_null(strstr(out, "[default: bitrate]"));
	/* What 0 means is said, not left to guess. */
	assert_non_null(strstr(out, "0: the method's default (bitrate 50, pixels 2) (0..100) "
			       "[default: 0]"));
	free(out);
}

static char *sample_text(void)
{
	char *out;
	size_t size;
	FILE *f = open_memstream(&out, &size);

	config_print_sample(f);
	fclose(f);
	return out;
}

static void test_sample_round_trip(void **state)
{
	struct config cfg, def;
	char path[PATH_MAX], *err, *sample = sample_text(), *on;
	size_t o = 0;

	(void)state;
	/* As written: all defaults, no camera. */
	config_init(&cfg);
	config_init(&def);
	assert_int_equal(load_text(&cfg, sample, path, sizeof(path), &err), 0);
	assert_string_equal(err, "");
	free(err);
	assert_string_equal(cfg.store, def.store);
	assert_int_equal(cfg.segment_seconds, def.segment_seconds);
	assert_int_equal(cfg.retain_days, def.retain_days);
	assert_int_equal(cfg.max_store_size, def.max_store_size);
	assert_true(cfg.min_free.percent == def.min_free.percent);
	assert_int_equal(cfg.min_free.bytes, def.min_free.bytes);
	assert_null(cfg.timezone);
	assert_int_equal(cfg.log_level, def.log_level);
	assert_int_equal(cfg.stall_seconds, def.stall_seconds);
	assert_int_equal(cfg.motion, def.motion);
	assert_int_equal(cfg.motion_threshold, def.motion_threshold);
	assert_int_equal(cfg.motion_min_seconds, def.motion_min_seconds);
	assert_int_equal(cfg.events_retain_days, def.events_retain_days);
	assert_int_equal(cfg.event_pre_roll, def.event_pre_roll);
	assert_int_equal(cfg.event_post_roll, def.event_post_roll);
	assert_null(cfg.on_event);
	assert_int_equal(cfg.on_event_timeout, def.on_event_timeout);
	assert_null(cfg.on_event_env);
	assert_int_equal(cfg.upload_max_size, def.upload_max_size);
	assert_int_equal(cfg.upload_max_per_day, def.upload_max_per_day);
	assert_int_equal(cfg.n_cameras, 0);
	config_free(&cfg);

	/* With every "#key" and "#[camera" line switched on: each shown value
	 * parses, in the section it is shown in. */
	on = malloc(strlen(sample) + 1);
	assert_non_null(on);
	for (const char *p = sample; *p; p++) {
		bool line_start = p == sample || p[-1] == '\n';
		if (line_start && p[0] == '#' && (p[1] == '[' || (p[1] >= 'a' && p[1] <= 'z')))
			continue;
		on[o++] = *p;
	}
	on[o] = '\0';
	setenv("FRONT_DOOR_PASSWORD", "pw", 1);
	config_init(&cfg);
	assert_int_equal(load_text(&cfg, on, path, sizeof(path), &err), 0);
	assert_string_equal(err, "");
	assert_int_equal(cfg.n_cameras, 1);
	assert_string_equal(cfg.cameras[0].name, "front-door");
	assert_string_equal(cfg.cameras[0].url, "rtsp://viewer:pw@192.0.2.10/stream1");
	assert_int_equal(cfg.cameras[0].retain_days, -1);
	assert_int_equal(cfg.cameras[0].stall_seconds, -1);
	assert_int_equal(cfg.cameras[0].motion, CONFIG_MOTION_INHERIT);
	assert_int_equal(cfg.cameras[0].motion_threshold, -1);
	assert_int_equal(cfg.cameras[0].motion_min_seconds, -1);
	assert_null(cfg.cameras[0].motion_url);
	assert_null(cfg.cameras[0].events_incoming);
	assert_int_equal(cfg.cameras[0].events_retain_days, -1);
	assert_int_equal(cfg.segment_seconds, def.segment_seconds);
	assert_int_equal(config_validate(&cfg, NULL), 0);
	unsetenv("FRONT_DOOR_PASSWORD");
	free(err);
	free(on);
	free(sample);
	config_free(&cfg);
	config_free(&def);
}

/* A file of the source tree, whole, or NULL (skipped) when
 * CAMFS_SOURCE_ROOT is not set. */
static char *read_source_file(const char *name)
{
	const char *root = getenv("CAMFS_SOURCE_ROOT");
	char path[PATH_MAX], *text;
	FILE *f;
	long len;

	if (!root || !*root)
		return NULL;
	snprintf(path, sizeof(path), "%s/%s", root, name);
	f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	text = calloc(1, (size_t)len + 1);
	assert_non_null(text);
	assert_int_equal(fread(text, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	return text;
}

static void write_source_file(const char *name, const char *text)
{
	char path[PATH_MAX];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", getenv("CAMFS_SOURCE_ROOT"), name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* examples/camfs.conf is exactly config_print_sample()'s output. With
 * CAMFS_UPDATE_SAMPLE=1 in the environment the test rewrites it instead. */
static void test_example_file_is_sample(void **state)
{
	char *sample = sample_text(), *file = read_source_file("examples/camfs.conf");

	(void)state;
	if (file && getenv("CAMFS_UPDATE_SAMPLE")) {
		write_source_file("examples/camfs.conf", sample);
		free(file);
		file = read_source_file("examples/camfs.conf");
	}
	if (!file) {
		free(sample);
		print_message("CAMFS_SOURCE_ROOT is not set: cannot check examples/camfs.conf\n");
		skip();
	}
	/* On a mismatch after changing the key table, regenerate it:
	 * CAMFS_UPDATE_SAMPLE=1 meson test config */
	assert_string_equal(file, sample);
	free(sample);
	free(file);
}

/* camfs(1)'s keys are config_print_man()'s output, between its BEGIN KEYS
 * and END KEYS comments; CAMFS_UPDATE_SAMPLE=1 rewrites them too. */
static void test_man_page_keys(void **state)
{
	static const char begin[] = ".\\\" BEGIN KEYS\n", end[] = ".\\\" END KEYS\n";
	char *page = read_source_file("docs/camfs.1"), *keys, *from, *to, *want;
	size_t size;
	FILE *f = open_memstream(&keys, &size);

	(void)state;
	config_print_man(f);
	fclose(f);
	if (!page) {
		free(keys);
		skip();
	}
	from = strstr(page, begin);
	to = from ? strstr(from, end) : NULL;
	assert_non_null(to);
	from += strlen(begin);
	if (asprintf(&want, "%.*s%s%s", (int)(from - page), page, keys, to) < 0)
		fail();
	if (getenv("CAMFS_UPDATE_SAMPLE"))
		write_source_file("docs/camfs.1", want);
	else
		assert_string_equal(page, want);
	free(want);
	free(keys);
	free(page);
}

/* The HTTP keys: where it listens, and that it never opens to the network
 * without users unless told so. */
static void test_http(void **state)
{
	struct config cfg;
	char *err;
	size_t size;
	FILE *f;

	(void)state;
	config_init(&cfg);
	assert_string_equal(cfg.http.host, "127.0.0.1");
	assert_int_equal(cfg.http.port, 8080);
	assert_true(config_listen_is_loopback(&cfg.http));
	assert_int_equal(cfg.http_auth, CONFIG_HTTP_AUTH_USERS);
	assert_int_equal(config_set_option(&cfg, "http=off", NULL), 0);
	assert_int_equal(cfg.http.port, 0);
	assert_int_equal(config_set_option(&cfg, "http=[::]:8443", NULL), 0);
	assert_string_equal(cfg.http.host, "::");
	assert_int_equal(cfg.http.port, 8443);
	assert_false(config_listen_is_loopback(&cfg.http));
	assert_int_equal(config_set_option(&cfg, "http=[::1]:80", NULL), 0);
	assert_true(config_listen_is_loopback(&cfg.http));
	assert_int_equal(config_set_option(&cfg, "http=localhost:81", NULL), 0);
	assert_string_equal(cfg.http.host, "127.0.0.1");
	assert_int_equal(config_set_option(&cfg, "http=127.0.0.2:81", NULL), 0);
	assert_true(config_listen_is_loopback(&cfg.http));

	f = open_memstream(&err, &size);
	assert_int_equal(config_set_option(&cfg, "http=8080", f), -EINVAL);
	assert_int_equal(config_set_option(&cfg, "http=0.0.0.0:0", f), -EINVAL);
	assert_int_equal(config_set_option(&cfg, "http=0.0.0.0:65536", f), -EINVAL);
	assert_int_equal(config_set_option(&cfg, "http=::1:80", f), -EINVAL);
	assert_int_equal(config_set_option(&cfg, "http=example.org:80", f), -EINVAL);
	assert_int_equal(config_set_option(&cfg, "http_auth=maybe", f), -EINVAL);
	assert_int_equal(config_set_option(&cfg, "http_cors=https://a.example/path", f), -EINVAL);
	assert_int_equal(config_set_option(&cfg, "http_cors=*", f), -EINVAL);
	fclose(f);
	assert_non_null(strstr(err, "-o: http: \"8080\" is not off or ADDRESS:PORT"));
	assert_non_null(strstr(err, "-o: http_auth: \"maybe\" is not users or none"));
	assert_non_null(strstr(err, "-o: http_cors: \"*\" is not an origin"));
	free(err);
	assert_int_equal(config_set_option(&cfg, "http_cors=https://nvr.example.org:8443", NULL), 0);
	assert_string_equal(cfg.http_cors, "https://nvr.example.org:8443");

	/* Other than loopback: users, or an explicit none. */
	assert_int_equal(config_set_option(&cfg, "store=/tmp/s", NULL), 0);
	assert_int_equal(config_set_option(&cfg, "http=0.0.0.0:8080", NULL), 0);
	f = open_memstream(&err, &size);
	assert_int_equal(config_validate(&cfg, f), -EINVAL);
	fclose(f);
	assert_string_equal(err, "http: 0.0.0.0 is not loopback: set http_users, or http_auth = "
			    "none to let anybody on the network watch\n");
	free(err);
	assert_int_equal(config_set_option(&cfg, "http_auth=none", NULL), 0);
	assert_int_equal(config_validate(&cfg, NULL), 0);
	/* none and users contradict each other. */
	assert_int_equal(config_set_option(&cfg, "http_users=/etc/camfs/users", NULL), 0);
	f = open_memstream(&err, &size);
	assert_int_equal(config_validate(&cfg, f), -EINVAL);
	fclose(f);
	assert_string_equal(err, "http_auth: is none, yet http_users is set: remove one\n");
	free(err);
	assert_int_equal(config_set_option(&cfg, "http_auth=users", NULL), 0);
	assert_int_equal(config_validate(&cfg, NULL), 0);
	/* A certificate needs its key. */
	assert_int_equal(config_set_option(&cfg, "http_tls_cert=/etc/camfs/cert.pem", NULL), 0);
	f = open_memstream(&err, &size);
	assert_int_equal(config_validate(&cfg, f), -EINVAL);
	fclose(f);
	assert_string_equal(err, "http_tls_key: is required with http_tls_cert\n");
	free(err);
	assert_int_equal(config_set_option(&cfg, "http_tls_key=/etc/camfs/key.pem", NULL), 0);
	assert_int_equal(config_validate(&cfg, NULL), 0);
	config_free(&cfg);
}

static void test_cameras_and_validate(void **state)
{
	struct config cfg;
	struct camera_config *cam;
	char *err;
	size_t size;
	FILE *f;

	(void)state;
	config_init(&cfg);
	cam = config_add_camera(&cfg, "demo1", "demo://bars");
	assert_non_null(cam);
	assert_string_equal(cam->name, "demo1");
	assert_string_equal(cam->url, "demo://bars");
	assert_int_equal(cam->transport, CONFIG_TRANSPORT_TCP);
	assert_int_equal(cam->retain_days, -1);
	assert_int_equal(cam->stall_seconds, -1);
	assert_int_equal(config_camera_retain_days(&cfg, cam), 30);
	assert_int_equal(config_camera_stall_seconds(&cfg, cam), 5);
	assert_int_equal(cam->motion, CONFIG_MOTION_INHERIT);
	assert_int_equal(cam->motion_threshold, -1);
	assert_int_equal(cam->motion_min_seconds, -1);
	assert_null(cam->motion_url);
	assert_null(cam->events_incoming);
	assert_int_equal(cam->events_retain_days, -1);
	assert_int_equal(config_camera_motion(&cfg, cam), CONFIG_MOTION_BITRATE);
	assert_int_equal(config_camera_motion_threshold(&cfg, cam), 0);
	assert_int_equal(config_camera_motion_min_seconds(&cfg, cam), 2);
	assert_int_equal(config_camera_events_retain_days(&cfg, cam), 30);
	assert_int_equal(config_validate(&cfg, NULL), 0);

	errno = 0;
	assert_null(config_add_camera(&cfg, "../x", "demo://x"));
	assert_int_equal(errno, EINVAL);
	assert_null(config_add_camera(&cfg, "", "demo://x"));
	assert_int_equal(cfg.n_cameras, 1);

	assert_non_null(config_add_camera(&cfg, "demo1", "demo://again"));
	assert_non_null(config_add_camera(&cfg, "nourl", NULL));
	free(cfg.store);
	cfg.store = NULL;
	cfg.segment_seconds = 0;
	f = open_memstream(&err, &size);
	assert_int_equal(config_validate(&cfg, f), -EINVAL);
	fclose(f);
	assert_string_equal(err,
			    "store: is required\n"
			    "segment_seconds: 0 is out of range (2..3600)\n"
			    "[camera demo1]: camera name is used twice\n"
			    "[camera nourl]: url: is required (or push = esp32 or browser)\n");
	free(err);
	config_free(&cfg);
}

/* Pushed cameras: the keys parse, and what cannot work is refused by
 * name before anything starts. */
static void test_push_cameras(void **state)
{
	struct config cfg;
	char path[PATH_MAX], *err;
	size_t size;
	FILE *f;

	(void)state;
	config_init(&cfg);
	assert_int_equal(cfg.esp32_listen.port, 0);
	assert_non_null(strstr(cfg.esp32_allow, "192.168.0.0/16"));
	assert_int_equal(load_text(&cfg, "[camfs]\nstore = /tmp\nesp32_listen = 0.0.0.0:9090\n"
				   "esp32_allow = 192.168.1.0/24 fd00::/8\nesp32_accept_unknown = lobby\n"
				   "[camera garage]\npush = esp32\nesp32_host = ESP32-CAM_0123456789ab\n"
				   "[camera lobby]\npush = esp32\n", path, sizeof(path), &err), 0);
	assert_string_equal(err, "");
	free(err);
	assert_int_equal(cfg.esp32_listen.port, 9090);
	assert_int_equal(cfg.cameras[0].push, CONFIG_PUSH_ESP32);
	assert_string_equal(cfg.cameras[0].esp32_host, "ESP32-CAM_0123456789ab");
	assert_null(cfg.cameras[0].url);
	assert_null(cfg.cameras[1].esp32_host);
	assert_int_equal(config_validate(&cfg, NULL), 0);
	config_free(&cfg);

	expect_errors("[camfs]\nesp32_allow = 10.0.0.0/8 300.1.1.1\n",
		      "P:2: esp32_allow: \"300.1.1.1\" is not an address or ADDRESS/PREFIX\n");
	expect_errors("[camfs]\nesp32_allow = 10.0.0.0/33\n",
		      "P:2: esp32_allow: \"10.0.0.0/33\" is not an address or ADDRESS/PREFIX\n");
	expect_errors("[camera a]\npush = carrier-pigeon\n",
		      "P:2: push: \"carrier-pigeon\" is not none, esp32 or browser\n"
		      "P:1: url: is required in [camera a] (or push = esp32 or browser)\n");
	expect_errors("[camera a]\npush = browser\ntoken = short\n",
		      "P:3: token: is shorter than 16 characters\n");
	expect_errors("[camera a]\npush = esp32\nesp32_host = two words\n",
		      "P:3: esp32_host: \"two words\" has a space or a control character\n");

	config_init(&cfg);
	assert_int_equal(load_text(&cfg, "[camfs]\nstore = /tmp\nesp32_accept_unknown = nope\n"
				   "[camera a]\npush = esp32\nurl = rtsp://x/y\n"
				   "[camera b]\npush = esp32\nesp32_host = h\n"
				   "[camera c]\npush = esp32\nesp32_host = h\n"
				   "[camera d]\nurl = rtsp://x/y\nesp32_host = d\n",
				   path, sizeof(path), &err), 0);
	free(err);
	f = open_memstream(&err, &size);
	assert_int_equal(config_validate(&cfg, f), -EINVAL);
	fclose(f);
	assert_string_equal(err,
			    "esp32_accept_unknown: no [camera nope]\n"
			    "[camera a]: push = esp32: the camera connects to camfs; remove url\n"
			    "[camera a]: push = esp32: set esp32_listen in [camfs]\n"
			    "[camera a]: esp32_host: is required (or name this camera in "
			    "esp32_accept_unknown)\n"
			    "[camera b]: push = esp32: set esp32_listen in [camfs]\n"
			    "[camera c]: push = esp32: set esp32_listen in [camfs]\n"
			    "[camera c]: esp32_host: h is camera b's already\n"
			    "[camera d]: esp32_host: needs push = esp32\n");
	free(err);
	config_free(&cfg);

	/* A browser camera: its token, never quoted; the export it talks to. */
	setenv("CAMFS_TEST_TOKEN", "0123456789abcdef-secret", 1);
	config_init(&cfg);
	assert_int_equal(load_text(&cfg, "[camfs]\nstore = /tmp\n"
				   "[camera phone]\npush = browser\ntoken = ${CAMFS_TEST_TOKEN}\n",
				   path, sizeof(path), &err), 0);
	assert_string_equal(err, "");
	free(err);
	assert_int_equal(cfg.cameras[0].push, CONFIG_PUSH_BROWSER);
	assert_string_equal(cfg.cameras[0].token, "0123456789abcdef-secret");
	assert_int_equal(config_validate(&cfg, NULL), 0);
	config_free(&cfg);
	config_init(&cfg);
	assert_int_equal(load_text(&cfg, "[camfs]\nstore = /tmp\nhttp = off\n"
				   "[camera phone]\npush = browser\nurl = rtsp://x/y\n"
				   "[camera e]\nurl = rtsp://x/y\ntoken = ${CAMFS_TEST_TOKEN}\n",
				   path, sizeof(path), &err), 0);
	free(err);
	f = open_memstream(&err, &size);
	assert_int_equal(config_validate(&cfg, f), -EINVAL);
	fclose(f);
	assert_string_equal(err,
			    "[camera phone]: push = browser: the camera connects to camfs; remove url\n"
			    "[camera phone]: token: is required with push = browser (at least 16 "
			    "characters, e.g. ${PHONE_TOKEN})\n"
			    "[camera phone]: push = browser: the camera page needs the HTTP export "
			    "(http = ADDR:PORT)\n"
			    "[camera e]: token: needs push = browser\n");
	assert_null(strstr(err, "secret"));
	free(err);
	config_free(&cfg);
	unsetenv("CAMFS_TEST_TOKEN");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_push_cameras),
		cmocka_unit_test(test_full_file),
		cmocka_unit_test(test_value_errors),
		cmocka_unit_test(test_structure_errors),
		cmocka_unit_test(test_all_errors_reported),
		cmocka_unit_test(test_unreadable),
		cmocka_unit_test(test_env_expansion),
		cmocka_unit_test(test_overrides),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_motion_events_keys),
		cmocka_unit_test(test_motion_events_errors),
		cmocka_unit_test(test_secrets_never_printed),
		cmocka_unit_test(test_events_incoming_validate),
		cmocka_unit_test(test_help_lists_every_key),
		cmocka_unit_test(test_sample_round_trip),
		cmocka_unit_test(test_example_file_is_sample),
		cmocka_unit_test(test_man_page_keys),
		cmocka_unit_test(test_http),
		cmocka_unit_test(test_cameras_and_validate),
	};

	return cmocka_run_group_tests(tests, make_tzdir, remove_tzdir);
}
