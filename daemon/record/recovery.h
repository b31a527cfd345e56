/* recovery.h - the start-up pass that makes every segment in the store
 * playable again after a crash or power cut. */
#ifndef CAMFS_RECOVERY_H
#define CAMFS_RECOVERY_H

enum recovery_result {
	RECOVERY_INTACT = 0,   /* ended on a complete fragment */
	RECOVERY_TRIMMED = 1,  /* cut back to its last complete moof+mdat */
	RECOVERY_REMOVED = 2,  /* no complete fragment (or no ftyp+moov): deleted */
};

/* Checks one segment file; trims (ftruncate + fdatasync) or removes it.
 * Returns an enum recovery_result or negative errno. */
int recovery_check_segment(const char *path);

/* Checks the newest two segments of every camera (only a segment open at the
 * crash can be torn; the one before is checked in case the cut itself was
 * interrupted). Logs what it changed. Returns 0 or negative errno. */
int recovery_run(const char *store);

#endif
