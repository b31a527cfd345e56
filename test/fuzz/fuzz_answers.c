/* fuzz_answers.c - libFuzzer target for discover/answers.c: whatever a
 * device on the LAN sends as a probe answer, an SSDP response or an ONVIF
 * answer is read within bounds, and every URL kept passes the checks (no
 * user:password, http(s) or rtsp only). Input: a selector byte, then the
 * answer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <libxml/parser.h>

#include "discover/answers.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(int ok)
{
	if (!ok)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct probe_match matches[8];
	struct media_profile profiles[ANSWER_PROFILES_MAX];
	struct ssdp_answer ssdp;
	char *text, uri[ANSWER_TEXT_MAX];
	int n;

	if (size < 1)
		return 0;
	/* A copy of its own size (NUL added), so an overrun is caught. */
	text = malloc(size);
	check(text != NULL);
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	switch (data[0] % 5) {
	case 0:
		n = answers_probe_matches(text, size - 1, matches, 8);
		for (int i = 0; i < n; i++)
			check(answers_url_ok(matches[i].xaddr) && strlen(matches[i].name) < 64);
		break;
	case 1:
		if (answers_ssdp(text, size - 1, &ssdp))
			check(!ssdp.location[0] || answers_url_ok(ssdp.location));
		break;
	case 2:
		n = answers_profiles(text, size - 1, profiles, ANSWER_PROFILES_MAX);
		check(n <= ANSWER_PROFILES_MAX);
		for (int i = 0; i < n; i++)
			check(profiles[i].token[0] != '\0');
		break;
	case 3:
		if (answers_stream_uri(text, size - 1, uri, sizeof(uri)) == 0)
			check(strncmp(uri, "rtsp://", 7) == 0 && !memchr(uri + 7, '@', strcspn(uri + 7, "/")));
		break;
	default:
		if (answers_media_xaddr(text, size - 1, uri, sizeof(uri)) == 0)
			check(!uri[0] || answers_url_ok(uri));
	}
	free(text);
	xmlResetLastError();
	return 0;
}
