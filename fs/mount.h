/* mount.h - the FUSE export of the tree (libfuse low-level API): a read-only
 * mount whose live.mp4 reads park without holding a thread. */
#ifndef CAMFS_MOUNT_H
#define CAMFS_MOUNT_H

struct camera;
struct config;
struct mount;
struct tree;

/* args: FUSE options from the command line (argc/argv form, argv[0] first),
 * e.g. -o allow_other. Mounts at mountpoint, recovering a stale mount left
 * by a crashed daemon. Cameras and tree must outlive the mount. */
int mount_new(struct mount **out, int argc, char **argv, const char *mountpoint,
	      const struct config *cfg, struct camera **cams, struct tree *tree);
/* Drops the kernel's cached listing of the directory holding path, a file
 * camera cam just created in the store (a writer_segment_fn). */
void mount_file_created(int cam, const char *path, void *mount);
/* Serves requests until unmounted (fusermount3 -u) or SIGINT/SIGTERM/SIGHUP.
 * Returns 0 or negative errno. */
int mount_run(struct mount *m);
/* Unmounts (if still mounted) and frees. Accepts NULL. */
void mount_free(struct mount *m);

#endif
