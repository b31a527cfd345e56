/* sidecar.c - motion-score sidecars, appended a row at a time. */
#include "record/sidecar.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/log.h"

void sidecar_path(const char *segment_path, char *out, size_t n)
{
	size_t len = strlen(segment_path);

	if (len > 4 && strcmp(segment_path + len - 4, ".mp4") == 0)
		len -= 4;
	snprintf(out, n, "%.*s" SIDECAR_SUFFIX, (int)len, segment_path);
}

int64_t sidecar_remove(const char *segment_path)
{
	char path[4096];
	struct stat st;
	int64_t bytes = 0;

	sidecar_path(segment_path, path, sizeof(path));
	if (lstat(path, &st) == 0)
		bytes = (int64_t)st.st_blocks * 512;
	if (unlink(path) == 0)
		return bytes;
	if (errno != ENOENT)
		log_warning("sidecar", "%s: %s", path, strerror(errno));
	return 0;
}

int sidecar_row(int64_t second_us, int score, char row[SIDECAR_ROW_MAX])
{
	time_t t = (time_t)(second_us / 1000000);
	struct tm tm;
	size_t len;

	localtime_r(&t, &tm);
	len = strftime(row, SIDECAR_ROW_MAX, "%Y-%m-%d %H:%M:%S", &tm);
	return (int)len + snprintf(row + len, SIDECAR_ROW_MAX - len, ",%d\n", score);
}

int sidecar_append(const char *segment_path, int64_t second_us, int score)
{
	char path[4096], line[sizeof(SIDECAR_HEADER) + SIDECAR_ROW_MAX];
	int fd, len = 0, ret = 0;
	ssize_t n;

	sidecar_path(segment_path, path, sizeof(path));
	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		/* A sidecar is made only beside its segment: not for one that
		 * retention has just deleted. */
		if (access(segment_path, F_OK) < 0)
			return -errno;
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		memcpy(line, SIDECAR_HEADER, sizeof(SIDECAR_HEADER) - 1);
		len = sizeof(SIDECAR_HEADER) - 1;
	}
	if (fd < 0)
		return -errno;
	len += sidecar_row(second_us, score, line + len);
	n = write(fd, line, (size_t)len);
	if (n != len)
		ret = n < 0 ? -errno : -EIO;
	close(fd);
	return ret;
}
