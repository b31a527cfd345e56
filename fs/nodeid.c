/* nodeid.c - the id scheme: 64 bits, from the top
 *   4  the node's kind (enum tree_kind; 0 is the root)
 *   1  the directory's listing (.index.json): the rest names the directory
 *   1  hashed: the rest is a hash of the path, which does not read back
 *  16  the camera: a hash of its name (0 at the root)
 *  16  the day: days since 1970-01-01 (day folders and what is in them)
 *  26  a file in the day: seconds since midnight (17), the _N suffix (4),
 *      which file of that time (5: segment, sidecar, snapshots)
 * Names are parsed, then written again: a name that does not come out the
 * same is hashed, so an id never reads back as another name. */
#include "fs/nodeid.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "events/events.h"
#include "record/sidecar.h"

#define KIND_SHIFT 60
#define LISTING_BIT (UINT64_C(1) << 59)
#define HASHED_BIT (UINT64_C(1) << 58)
#define CAM_SHIFT 42
#define DAY_SHIFT 26
#define FILE_MASK ((UINT64_C(1) << 26) - 1)
#define SUFFIX_MAX 15

/* What a file of a day is, by its name's tail. */
static const struct {
	enum tree_kind parent;   /* the folder it is in */
	const char *tail;
} files[] = {
	{ TREE_DAY, ".mp4" },                /* a segment */
	{ TREE_DAY, SIDECAR_SUFFIX },        /* its motion scores */
	{ TREE_EVENT_DAY, "-motion.jpg" },
	{ TREE_EVENT_DAY, "-camera.jpg" },
	{ TREE_EVENT_DAY, "-motion.mp4" },   /* an event's clip */
	{ TREE_EVENT_DAY, "-camera.mp4" },   /* a camera event's clip (appended: ids stay) */
};
#define N_FILES (sizeof(files) / sizeof(files[0]))

static uint64_t fnv(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h;
}

uint16_t nodeid_camera(const char *camera)
{
	uint64_t h = fnv(0xcbf29ce484222325ull, camera);
	uint16_t c = (uint16_t)(h ^ h >> 16 ^ h >> 32 ^ h >> 48);

	return c ? c : 1;
}

uint64_t nodeid_hashed(uint64_t dir, const char *name)
{
	uint64_t h = fnv(0xcbf29ce484222325ull ^ dir * 0x9e3779b97f4a7c15ull, name);

	return HASHED_BIT | (h & (HASHED_BIT - 1)) | (UINT64_C(1) << KIND_SHIFT);
}

static uint64_t make(enum tree_kind kind, uint64_t cam, uint64_t day, uint64_t file)
{
	return (uint64_t)kind << KIND_SHIFT | cam << CAM_SHIFT | day << DAY_SHIFT | file;
}

/* "YYYY-MM-DD" as days since 1970-01-01; -1 if not a date that fits. */
static long day_number(const char *name)
{
	struct tm tm = { 0 };
	int y, m, d, n = 0;
	char again[48];
	long days;

	if (sscanf(name, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || name[n])
		return -1;
	tm.tm_year = y - 1900;
	tm.tm_mon = m - 1;
	tm.tm_mday = d;
	days = (long)(timegm(&tm) / 86400);
	snprintf(again, sizeof(again), "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
	return days >= 0 && days < 65536 && strcmp(again, name) == 0 ? days : -1;
}

static void day_name(long days, char out[48])
{
	time_t t = (time_t)days * 86400;
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(out, 48, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

static void file_name(uint64_t file, char *out, size_t size)
{
	unsigned secs = (unsigned)(file >> 9), suffix = (file >> 5) & SUFFIX_MAX, which = file & 31;
	const char *tail = which < N_FILES ? files[which].tail : "";
	char n[8] = "";

	if (suffix)
		snprintf(n, sizeof(n), "_%u", suffix);
	/* The suffix goes before the extension: 10-00-00_2.mp4, 10-00-00-motion_2.jpg. */
	if (which >= 2) {
		snprintf(out, size, "%02u-%02u-%02u%.7s%s%s", secs / 3600, secs / 60 % 60, secs % 60,
			 tail, n, tail + 7);
	} else {
		snprintf(out, size, "%02u-%02u-%02u%s%s", secs / 3600, secs / 60 % 60, secs % 60, n, tail);
	}
}

/* A file of a day folder as its 26 bits; -1 if the scheme has no room. */
static long file_bits(enum tree_kind dir_kind, const char *name)
{
	int h, m, s, n = 0;
	unsigned suffix = 0;
	const char *p;
	char again[64];

	if (sscanf(name, "%2d-%2d-%2d%n", &h, &m, &s, &n) != 3 || n != 8 || h > 23 || m > 59 ||
	    s > 59 || h < 0 || m < 0 || s < 0)
		return -1;
	p = name + n;
	/* Any _N is on the stem, before the extension; the name written
	 * again below tells whether it stood where it should. */
	if ((p = strchr(p, '_')) && (sscanf(p, "_%u", &suffix) != 1 || suffix > SUFFIX_MAX))
		return -1;
	for (size_t i = 0; i < N_FILES; i++) {
		long bits;

		if (files[i].parent != dir_kind)
			continue;
		bits = (long)(((unsigned long)(h * 3600 + m * 60 + s) << 9) | suffix << 5 | i);
		file_name((uint64_t)bits, again, sizeof(again));
		if (strcmp(again, name) == 0)
			return bits;
	}
	return -1;
}

uint64_t nodeid_child(uint64_t dir, enum tree_kind dir_kind, enum tree_kind kind,
		      const char *camera, const char *name)
{
	uint64_t cam = dir >> CAM_SHIFT & 0xffff, day = dir >> DAY_SHIFT & 0xffff;
	long bits;

	if (dir & HASHED_BIT)
		return nodeid_hashed(dir, name);
	switch (kind) {
	case TREE_LISTING:
		return dir | LISTING_BIT;
	case TREE_CAMERA:
		return make(kind, nodeid_camera(camera), 0, 0);
	case TREE_STATUS:
	case TREE_LIVE_MP4:
	case TREE_LIVE_JPG:
	case TREE_CLIPS:
	case TREE_EVENTS:
	case TREE_CLIPS_README:
	case TREE_DAY_MP4:
	case TREE_DAY_MOTION:
		return make(kind, cam, day, 0);
	case TREE_DAY:
	case TREE_EVENT_DAY:
		bits = day_number(name);
		return bits < 0 ? nodeid_hashed(dir, name) : make(kind, cam, (uint64_t)bits, 0);
	case TREE_STORE_FILE:
	case TREE_EVENT_CLIP:
		bits = file_bits(dir_kind, name);
		return bits < 0 ? nodeid_hashed(dir, name) : make(kind, cam, day, (uint64_t)bits);
	default:   /* a clip: its range does not fit */
		return nodeid_hashed(dir, name);
	}
}

/* The path of a directory of kind in camera, or of the root. */
static int dir_path(enum tree_kind kind, const char *camera, long day, char *out, size_t size)
{
	char date[48];

	day_name(day, date);
	switch (kind) {
	case TREE_ROOT:
		return snprintf(out, size, "%s", "");
	case TREE_CAMERA:
		return snprintf(out, size, "%s", camera);
	case TREE_DAY:
		return snprintf(out, size, "%s/%s", camera, date);
	case TREE_CLIPS:
		return snprintf(out, size, "%s/clips", camera);
	case TREE_EVENTS:
		return snprintf(out, size, "%s/%s", camera, EVENTS_DIR);
	case TREE_EVENT_DAY:
		return snprintf(out, size, "%s/%s/%s", camera, EVENTS_DIR, date);
	default:
		return -1;
	}
}

int nodeid_path(uint64_t id, const char *const *cameras, int n, char *path, size_t size)
{
	enum tree_kind kind = (enum tree_kind)(id >> KIND_SHIFT);
	uint16_t cam = id >> CAM_SHIFT & 0xffff;
	long day = (long)(id >> DAY_SHIFT & 0xffff);
	uint64_t file = id & FILE_MASK;
	const char *camera = NULL, *leaf = NULL;
	char name[64], dir[512];
	enum tree_kind dir_kind;
	int len;

	if (id == TREE_ROOT_INO)
		return snprintf(path, size, "%s", "") < 0 ? -ESTALE : 0;
	if (id == (TREE_ROOT_INO | LISTING_BIT))
		return snprintf(path, size, "%s", TREE_LISTING_NAME) < 0 ? -ESTALE : 0;
	if (id & HASHED_BIT)
		return -ESTALE;
	for (int i = 0; cam && i < n && !camera; i++)
		if (nodeid_camera(cameras[i]) == cam)
			camera = cameras[i];
	if (cam && !camera)
		return -ESTALE;
	switch (kind) {
	case TREE_STATUS: dir_kind = camera ? TREE_CAMERA : TREE_ROOT; leaf = "status.json"; break;
	case TREE_LIVE_MP4: dir_kind = TREE_CAMERA; leaf = "live.mp4"; break;
	case TREE_LIVE_JPG: dir_kind = TREE_CAMERA; leaf = "live.jpg"; break;
	case TREE_CLIPS_README: dir_kind = TREE_CLIPS; leaf = "README.txt"; break;
	case TREE_DAY_MP4: dir_kind = TREE_DAY; leaf = "day.mp4"; break;
	case TREE_DAY_MOTION: dir_kind = TREE_DAY; leaf = "motion.csv"; break;
	case TREE_STORE_FILE:
	case TREE_EVENT_CLIP:
		if ((file & 31) >= N_FILES)
			return -ESTALE;
		dir_kind = files[file & 31].parent;
		file_name(file, name, sizeof(name));
		leaf = name;
		break;
	default:   /* a directory: itself */
		dir_kind = kind;
		break;
	}
	if (!camera && dir_kind != TREE_ROOT)
		return -ESTALE;
	if (dir_path(dir_kind, camera, day, dir, sizeof(dir)) < 0)
		return -ESTALE;
	if (id & LISTING_BIT)
		leaf = TREE_LISTING_NAME;
	if (!leaf)
		len = snprintf(path, size, "%s", dir);
	else
		len = snprintf(path, size, "%s%s%s", dir, *dir ? "/" : "", leaf);
	return len < 0 || (size_t)len >= size ? -ESTALE : 0;
}
