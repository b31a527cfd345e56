/* beneath.h - opening a path below a folder's fd through no symbolic link
 * and never above it: how camfs, running as root, walks the store and the
 * upload folders that LAN parties can write into. */
#ifndef CAMFS_BENEATH_H
#define CAMFS_BENEATH_H

/* Opens rel ("a/b/c"; leading '/'s ignored; "" is dirfd's own folder)
 * below dirfd with flags (O_CLOEXEC added). A symbolic link anywhere on the
 * way, the last name included, fails (-ELOOP, or -ENOTDIR where a link
 * stands for a folder), as does a ".." step (-EXDEV). openat2 with
 * RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS where the kernel has it (5.6+),
 * else one name at a time with O_NOFOLLOW. An fd or negative errno. */
int open_beneath(int dirfd, const char *rel, int flags);

#endif
