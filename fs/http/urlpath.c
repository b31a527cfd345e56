/* urlpath.c - checks a decoded request path byte by byte and splits it into
 * tree component names; nothing is decoded or resolved here. */
#include "fs/http/urlpath.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>

/* Length of the shortest-form UTF-8 sequence at s (at most n bytes), or 0. */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
	uint32_t cp;
	size_t len;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf) {
		len = 2;
		cp = s[0] & 0x1f;
	} else if (s[0] >= 0xe0 && s[0] <= 0xef) {
		len = 3;
		cp = s[0] & 0x0f;
	} else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
		len = 4;
		cp = s[0] & 0x07;
	} else {
		return 0;   /* a continuation byte, or 0xc0/0xc1/0xf5+: never shortest form */
	}
	if (len > n)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

int urlpath_parse(struct urlpath *out, const char *path, size_t len)
{
	const unsigned char *s = (const unsigned char *)path;
	size_t i = 1, o = 0;

	out->n = 0;
	out->slash = false;
	if (len > URLPATH_MAX)
		return -ENAMETOOLONG;
	if (len == 0 || s[0] != '/')
		return -EINVAL;
	/* Bytes first: a bad byte is 400 wherever it is. */
	for (size_t k = 0; k < len;) {
		size_t seq = utf8_seq(s + k, len - k);

		if (seq == 0 || (seq == 1 && (s[k] < 0x20 || s[k] == 0x7f || s[k] == '\\')))
			return -EINVAL;
		k += seq;
	}
	while (i < len) {
		size_t name_len = 0;
		char *name = out->buf + o;

		while (i < len && s[i] != '/') {
			out->buf[o++] = s[i] == ' ' ? '+' : (char)s[i];
			name_len++;
			i++;
		}
		out->buf[o++] = '\0';
		if (i == len && name_len == 0)
			break;   /* the trailing slash of ".../" */
		if (name_len == 0 || name_len > URLPATH_NAME_MAX ||
		    (name[0] == '.' && (name_len == 1 || (name_len == 2 && name[1] == '.'))))
			return -ENOENT;
		if (out->n == URLPATH_MAX_DEPTH)
			return -ENOENT;
		out->part[out->n++] = name;
		if (i < len) {
			i++;   /* the '/' */
			if (i == len)
				out->slash = true;
		}
	}
	if (len == 1)
		out->slash = true;
	return 0;
}
