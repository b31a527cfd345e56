/* discover.h - camfs --discover: finds cameras on this network (ONVIF by
 * WS-Discovery, anything by SSDP), asks each ONVIF camera for its streams,
 * and prints [camera NAME] sections ready to paste into camfs.conf, with
 * ${NAME_USER}/${NAME_PASSWORD} placeholders: no password is ever printed.
 * ONVIF_USER and ONVIF_PASSWORD in the environment authenticate the calls. */
#ifndef CAMFS_DISCOVER_H
#define CAMFS_DISCOVER_H

#include <stdio.h>

/* Probes for timeout_ms, then asks each camera (each call bounded by
 * timeout_ms too). Prints to out, progress and problems as comments.
 * Returns the number of cameras printed, or negative errno. */
int discover_run(int timeout_ms, FILE *out);

#endif
