/* url.c - redacts "scheme://user:pass@" anywhere in a text. */
#include "util/url.h"

#include <ctype.h>
#include <string.h>

/* Length of the userinfo (up to '@') starting at p, or 0 when the authority
 * holds no '@' before it ends at '/', '?', '#' or white space. The last '@'
 * wins: passwords may contain '@' unescaped in the wild. */
static size_t userinfo_len(const char *p)
{
	size_t at = 0;

	for (size_t i = 0; p[i] && p[i] != '/' && p[i] != '?' && p[i] != '#' &&
			   !isspace((unsigned char)p[i]) && p[i] != '"' && p[i] != '\''; i++)
		if (p[i] == '@')
			at = i + 1;
	return at;
}

void url_redact(const char *text, char *out, size_t n)
{
	size_t o = 0;

	if (n == 0)
		return;
	for (const char *p = text; *p && o + 1 < n;) {
		if (p[0] == ':' && p[1] == '/' && p[2] == '/') {
			size_t skip = userinfo_len(p + 3);
			const char *put = skip ? "://***@" : "://";

			for (; *put && o + 1 < n; put++)
				out[o++] = *put;
			p += 3 + skip;
			continue;
		}
		out[o++] = *p++;
	}
	out[o] = '\0';
}
