/* answers.h - what devices answer a discovery: WS-Discovery ProbeMatches,
 * SSDP responses and the ONVIF media calls (GetProfiles, GetStreamUri),
 * read into plain structs. The bytes come from anyone on the LAN: every
 * field is bounded, every URL checked. libxml2 reads the XML (no network,
 * no entity expansion). */
#ifndef CAMFS_ANSWERS_H
#define CAMFS_ANSWERS_H

#include <stdbool.h>
#include <stddef.h>

#define ANSWER_TEXT_MAX 256
#define ANSWER_PROFILES_MAX 8

/* An ONVIF device that answered a probe. */
struct probe_match {
	char xaddr[ANSWER_TEXT_MAX];     /* its device service: http(s)://host[:port]/path */
	char name[64];                   /* scope onvif://www.onvif.org/name/..., "" if none */
	char hardware[64];               /* scope .../hardware/... */
};

/* An SSDP responder. */
struct ssdp_answer {
	char location[ANSWER_TEXT_MAX];
	char server[128];
	char usn[128];
};

struct media_profile {
	char token[64];
	char name[64];
	int width, height;               /* 0 if not given */
	char encoding[16];               /* H264, H265, JPEG, ... */
};

/* Reads a ProbeMatches envelope: up to max matches with a usable XAddr (the
 * first http(s) one of each). Returns how many, or -1 if it is not XML. */
int answers_probe_matches(const char *xml, size_t len, struct probe_match *out, int max);

/* Reads an SSDP response (HTTP/1.1 200 OK and headers). false if it is
 * not one. */
bool answers_ssdp(const char *text, size_t len, struct ssdp_answer *out);

/* GetProfilesResponse: up to max profiles. -1 if not XML; -2 for a SOAP
 * fault saying authentication is needed (NotAuthorized); -3 another fault. */
int answers_profiles(const char *xml, size_t len, struct media_profile *out, int max);

/* GetStreamUriResponse: its rtsp:// URI, without any user:password in it,
 * into uri. 0, or -1 as for answers_profiles (-2, -3 too). */
int answers_stream_uri(const char *xml, size_t len, char *uri, size_t size);

/* GetCapabilitiesResponse: the media service's XAddr into out (checked
 * as answers_url_ok), or "" when it names none. 0, or -1, -2, -3. */
int answers_media_xaddr(const char *xml, size_t len, char *out, size_t size);

/* Whether url is http:// or https:// with a host, no user info, printable
 * and short: what a probe answer may send us to. */
bool answers_url_ok(const char *url);

#endif
