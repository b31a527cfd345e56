/* discover.c - probes, ONVIF calls, and the printed sections. */
#include "discover/discover.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>

#include "discover/onvif.h"
#include "discover/probe.h"

/* host of an http(s) URL (answers_url_ok), into out. */
static void host_of(const char *url, char *out, size_t size)
{
	const char *h = strstr(url, "://") + 3;
	size_t n = strcspn(h, "/");

	if (*h == '[')   /* [IPv6]:port */
		n = strcspn(h, "]") + 1;
	else
		n = strcspn(h, ":/");
	snprintf(out, size, "%.*s", (int)(n < size ? n : size - 1), h);
}

/* A camera name (config: A-Z a-z 0-9 . _ -) from the device's own name or
 * its address, unique among the names given so far. */
static void camera_name(const struct probe_match *m, const char *host, int index, char *out,
			size_t size)
{
	const char *src = m->name[0] ? m->name : host;
	size_t n = 0;

	for (; *src && n + 1 < size && n < 40; src++)
		out[n++] = isalnum((unsigned char)*src) || *src == '-' || *src == '_' ? *src : '-';
	out[n] = '\0';
	if (!n || out[0] == '.')
		snprintf(out, size, "camera%d", index + 1);
	else if (index > 0 && m->name[0])
		snprintf(out + n, size - n, "-%d", index + 1);
}

/* NAME as an environment variable stem: upper case, '_' for the rest. */
static void env_stem(const char *name, char *out, size_t size)
{
	size_t n = 0;

	for (; *name && n + 1 < size; name++)
		out[n++] = isalnum((unsigned char)*name) ? (char)toupper((unsigned char)*name) : '_';
	out[n] = '\0';
}

static void print_profile(FILE *out, const struct media_profile *p, const char *uri)
{
	fprintf(out, "#   profile %s", p->token);
	if (p->name[0] && strcmp(p->name, p->token) != 0)
		fprintf(out, " (%s)", p->name);
	if (p->width)
		fprintf(out, ": %s %dx%d", p->encoding, p->width, p->height);
	fprintf(out, "%s%s\n", uri ? " " : "", uri ? uri : "");
}

/* The streams of one ONVIF camera, as a section; 1 if printed. */
static int print_onvif(FILE *out, const struct probe_match *m, int index, int timeout_ms)
{
	struct onvif o = {
		.device = m->xaddr, .user = getenv("ONVIF_USER"), .password = getenv("ONVIF_PASSWORD"),
		.timeout_ms = timeout_ms,
	};
	struct media_profile profiles[ANSWER_PROFILES_MAX];
	char host[128], name[64], env[64], uris[ANSWER_PROFILES_MAX][ANSWER_TEXT_MAX];
	int n, best = -1, sub = -1;

	host_of(m->xaddr, host, sizeof(host));
	camera_name(m, host, index, name, sizeof(name));
	env_stem(name, env, sizeof(env));
	fprintf(out, "\n# ONVIF camera%s%s at %s (%s)%s%s\n", m->name[0] ? " " : "", m->name, host,
		m->xaddr, m->hardware[0] ? ": " : "", m->hardware);
	n = onvif_profiles(&o, profiles, ANSWER_PROFILES_MAX);
	if (n <= 0) {
		fprintf(out, "# %s\n", n == 0 ? "no media profiles" : o.error);
		return 0;
	}
	for (int i = 0; i < n; i++) {
		if (onvif_stream_uri(&o, profiles[i].token, uris[i], sizeof(uris[i])) < 0) {
			fprintf(out, "#   profile %s: %s\n", profiles[i].token, o.error);
			uris[i][0] = '\0';
			continue;
		}
		/* The largest H.264/H.265 stream records; the smallest one
		 * scores motion. */
		if (best < 0 || profiles[i].width > profiles[best].width)
			best = i;
		if (sub < 0 || profiles[i].width < profiles[sub].width)
			sub = i;
	}
	for (int i = 0; i < n; i++)
		if (uris[i][0] && i != best)
			print_profile(out, &profiles[i], uris[i]);
	if (best < 0)
		return 0;
	print_profile(out, &profiles[best], NULL);
	fprintf(out, "[camera %s]\nurl = rtsp://${%s_USER}:${%s_PASSWORD}@%s\n", name, env, env,
		uris[best] + 7);
	if (sub >= 0 && sub != best && profiles[sub].width && profiles[sub].width < profiles[best].width)
		fprintf(out, "#motion_url = rtsp://${%s_USER}:${%s_PASSWORD}@%s\n", env, env,
			uris[sub] + 7);
	return 1;
}

int discover_run(int timeout_ms, FILE *out)
{
	struct probe_results *r = calloc(1, sizeof(*r));
	int ret, printed = 0;

	if (!r)
		return -ENOMEM;
	fprintf(out, "# camfs --discover: asking this network for %.1f s (WS-Discovery, SSDP)\n",
		timeout_ms / 1000.0);
	ret = probe_run(timeout_ms, r);
	if (ret < 0) {
		fprintf(out, "# cannot probe: %s\n", strerror(-ret));
		free(r);
		return ret;
	}
	fprintf(out, "# %d ONVIF device%s, %d SSDP device%s answered", r->n_onvif,
		r->n_onvif == 1 ? "" : "s", r->n_ssdp, r->n_ssdp == 1 ? "" : "s");
	if (r->ignored)
		fprintf(out, "; %d answer%s ignored (not readable)", r->ignored, r->ignored == 1 ? "" : "s");
	fprintf(out, "\n");
	curl_global_init(CURL_GLOBAL_DEFAULT);
	for (int i = 0; i < r->n_onvif; i++)
		printed += print_onvif(out, &r->onvif[i], i, timeout_ms);
	for (int i = 0; i < r->n_ssdp; i++) {
		const struct ssdp_answer *a = &r->ssdp[i];

		fprintf(out, "\n# SSDP device at %s: %s%s%s\n", r->ssdp_from[i],
			a->server[0] ? a->server : "(no SERVER)", a->location[0] ? ", " : "", a->location);
		/* ESP32-CAM boards stream MJPEG over HTTP. */
		if (strcasestr(a->server, "esp32") || strcasestr(a->usn, "esp32"))
			fprintf(out, "#   an ESP32-CAM board? record its MJPEG with url = "
				"http://%s/sustain?video=1 (older firmware: http://%s:82/stream)\n",
				r->ssdp_from[i], r->ssdp_from[i]);
	}
	curl_global_cleanup();
	free(r);
	return printed;
}
