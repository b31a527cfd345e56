/* url.h - credential redaction for anything that prints a URL:
 * rtsp://user:pass@host/path becomes (redacted: userinfo replaced by three stars). */
#ifndef CAMFS_URL_H
#define CAMFS_URL_H

#include <stddef.h>

/* Copies text to out (size n, always NUL-terminated, truncated if needed),
 * replacing the userinfo of every "scheme://userinfo@" with "***".
 * Works on whole log lines as well as on a single URL. */
void url_redact(const char *text, char *out, size_t n);

#endif
