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
		      "P:1: url: is required in [camera front]\n");
	expect_errors("[camera front]\n", "P:1: url: is required in [camera front]\n");
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
		 "%1$s:8: url: is required in [camera bad!]\n"
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
	config_free(&cfg);

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

static void test_help_lists_every_key(void **state)
{
	static const char *const global[] = {
		"store", "segment_seconds", "retain_days", "max_store_size", "min_free",
		"timezone", "log_level", "stall_seconds",
	};
	static const char *const camera[] = { "url", "transport", "retain_days", "stall_seconds" };
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
	assert_int_equal(cfg.segment_seconds, def.segment_seconds);
	assert_int_equal(config_validate(&cfg, NULL), 0);
	unsetenv("FRONT_DOOR_PASSWORD");
	free(err);
	free(on);
	free(sample);
	config_free(&cfg);
	config_free(&def);
}

/* examples/camfs.conf is exactly config_print_sample()'s output. With
 * CAMFS_UPDATE_SAMPLE=1 in the environment the test rewrites it instead. */
static void test_example_file_is_sample(void **state)
{
	const char *root = getenv("CAMFS_SOURCE_ROOT");
	char path[PATH_MAX], *sample = sample_text(), *file;
	FILE *f;
	long len;

	(void)state;
	if (!root || !*root) {
		free(sample);
		print_message("CAMFS_SOURCE_ROOT is not set: cannot check examples/camfs.conf\n");
		skip();
	}
	snprintf(path, sizeof(path), "%s/examples/camfs.conf", root);
	if (getenv("CAMFS_UPDATE_SAMPLE")) {
		f = fopen(path, "w");
		assert_non_null(f);
		fputs(sample, f);
		assert_int_equal(fclose(f), 0);
	}
	f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	file = calloc(1, (size_t)len + 1);
	assert_non_null(file);
	assert_int_equal(fread(file, 1, (size_t)len, f), (size_t)len);
	fclose(f);
	/* On a mismatch after changing the key table, regenerate it:
	 * CAMFS_UPDATE_SAMPLE=1 meson test config */
	assert_string_equal(file, sample);
	free(sample);
	free(file);
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
			    "[camera nourl]: url: is required\n");
	free(err);
	config_free(&cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_full_file),
		cmocka_unit_test(test_value_errors),
		cmocka_unit_test(test_structure_errors),
		cmocka_unit_test(test_all_errors_reported),
		cmocka_unit_test(test_unreadable),
		cmocka_unit_test(test_env_expansion),
		cmocka_unit_test(test_overrides),
		cmocka_unit_test(test_sizes),
		cmocka_unit_test(test_help_lists_every_key),
		cmocka_unit_test(test_sample_round_trip),
		cmocka_unit_test(test_example_file_is_sample),
		cmocka_unit_test(test_cameras_and_validate),
	};

	return cmocka_run_group_tests(tests, make_tzdir, remove_tzdir);
}
