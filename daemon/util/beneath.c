/* beneath.c - open_beneath: openat2's resolve flags, or the same walk done
 * one name at a time on kernels without it. */
#include "util/beneath.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "util/log.h"

static atomic_bool no_openat2;     /* the kernel said ENOSYS once */

/* The walk without openat2: every folder on the way opened O_NOFOLLOW from
 * the one before, the last name with flags | O_NOFOLLOW. */
static int walk(int dirfd, char *rel, int flags)
{
	char *save = NULL, *name = strtok_r(rel, "/", &save);
	int dir = -1, fd;

	if (!name) {   /* dirfd's own folder */
		fd = openat(dirfd, ".", flags | O_CLOEXEC);
		return fd < 0 ? -errno : fd;
	}
	for (int at = dirfd;; at = dir) {
		char *next = strtok_r(NULL, "/", &save);

		if (strcmp(name, "..") == 0)
			fd = -EXDEV;
		else if ((fd = openat(at, name, next ? O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC :
				      flags | O_NOFOLLOW | O_CLOEXEC)) < 0)
			fd = -errno;
		if (dir >= 0)
			close(dir);
		if (fd < 0 || !next)
			return fd;
		dir = fd;
		name = next;
	}
}

int open_beneath(int dirfd, const char *rel, int flags)
{
	struct open_how how = {
		.flags = (unsigned)(flags | O_CLOEXEC),
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS,
	};
	char buf[PATH_MAX];
	int fd;

	while (*rel == '/')
		rel++;
	if (!atomic_load(&no_openat2)) {
		fd = (int)syscall(SYS_openat2, dirfd, *rel ? rel : ".", &how, sizeof(how));
		if (fd >= 0 || errno != ENOSYS)
			return fd >= 0 ? fd : -errno;
		atomic_store(&no_openat2, true);
		log_notice("camfs", "no openat2 (Linux before 5.6): the store and upload folders "
			   "are walked one name at a time");
	}
	if (snprintf(buf, sizeof(buf), "%s", rel) >= (int)sizeof(buf))
		return -ENAMETOOLONG;
	return walk(dirfd, buf, flags);
}
