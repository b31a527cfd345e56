/* onvif.h - the ONVIF calls discovery makes (SOAP 1.2 over HTTP, libcurl):
 * the media service's address, the profiles, a profile's RTSP URI. With a
 * user, requests carry a WS-UsernameToken with a password digest (the
 * password itself is never sent). */
#ifndef CAMFS_ONVIF_H
#define CAMFS_ONVIF_H

#include <stddef.h>

#include "discover/answers.h"

struct onvif {
	const char *device;     /* device service URL, from the probe */
	const char *user;       /* NULL: no UsernameToken */
	const char *password;
	long timeout_ms;        /* per call */
	char media[ANSWER_TEXT_MAX];   /* filled by onvif_profiles */
	char error[160];        /* why the last call failed */
};

/* The device's profiles (GetCapabilities, then GetProfiles). >= 0: how
 * many; < 0 as answers_profiles, or -4 for a transport failure; error says
 * what went wrong. */
int onvif_profiles(struct onvif *o, struct media_profile *out, int max);

/* The RTSP URI of a profile (GetStreamUri), without credentials. 0 or < 0
 * as onvif_profiles. */
int onvif_stream_uri(struct onvif *o, const char *token, char *uri, size_t size);

#endif
