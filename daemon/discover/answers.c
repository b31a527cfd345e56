/* answers.c - reading discovery answers. Elements are found by local name,
 * whatever namespace prefix a vendor picked. */
#include "discover/answers.h"

#include <ctype.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

/* No DTD fetch, no entity substitution, no huge nodes: a hostile answer
 * gets libxml2's default limits. */
#define XML_OPTIONS (XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING)

static xmlDocPtr read_xml(const char *xml, size_t len)
{
	if (len > (1 << 20))
		return NULL;
	return xmlReadMemory(xml, (int)len, "answer.xml", NULL, XML_OPTIONS);
}

static bool named(xmlNodePtr n, const char *local)
{
	return n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, local) == 0;
}

/* The first element called local at or under n (depth first), or NULL. */
static xmlNodePtr find(xmlNodePtr n, const char *local)
{
	for (; n; n = n->next) {
		xmlNodePtr hit;

		if (named(n, local))
			return n;
		if (n->children && (hit = find(n->children, local)))
			return hit;
	}
	return NULL;
}

/* n's text, trimmed, at most size - 1 bytes; "" if none. */
static void text_of(xmlNodePtr n, char *out, size_t size)
{
	xmlChar *s = n ? xmlNodeGetContent(n) : NULL;
	const char *p = (const char *)s;
	size_t len;

	out[0] = '\0';
	if (!s)
		return;
	while (isspace((unsigned char)*p))
		p++;
	len = strlen(p);
	while (len && isspace((unsigned char)p[len - 1]))
		len--;
	snprintf(out, size, "%.*s", (int)(len < size ? len : size - 1), p);
	xmlFree(s);
}

static bool printable(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x21 || (unsigned char)*s > 0x7e)
			return false;
	return true;
}

bool answers_url_ok(const char *url)
{
	const char *host;
	size_t n = strlen(url);

	if (n == 0 || n >= ANSWER_TEXT_MAX || !printable(url))
		return false;
	if (strncmp(url, "http://", 7) == 0)
		host = url + 7;
	else if (strncmp(url, "https://", 8) == 0)
		host = url + 8;
	else
		return false;
	/* A host, and no user:password@ (it would be sent on). */
	return *host && *host != '/' && *host != ':' && !memchr(host, '@', strcspn(host, "/"));
}

/* The value after prefix in a space-separated scope list, percent-escapes
 * decoded, cut at size - 1 and to [A-Za-z0-9._-] ('_' for the rest). */
static void scope_value(const char *scopes, const char *prefix, char *out, size_t size)
{
	const char *p = strstr(scopes, prefix);
	size_t n = 0;

	out[0] = '\0';
	if (!p)
		return;
	for (p += strlen(prefix); *p && !isspace((unsigned char)*p) && *p != '/' && n + 1 < size; p++) {
		char c = *p;
		unsigned hex;

		/* %20 and the like stand for one character. */
		if (c == '%' && isxdigit((unsigned char)p[1]) && isxdigit((unsigned char)p[2]) &&
		    sscanf(p + 1, "%2x", &hex) == 1) {
			c = (char)hex;
			p += 2;
		}
		out[n++] = isalnum((unsigned char)c) || c == '.' || c == '-' ? c : '_';
	}
	out[n] = '\0';
}

int answers_probe_matches(const char *xml, size_t len, struct probe_match *out, int max)
{
	xmlDocPtr doc = read_xml(xml, len);
	int n = 0;

	if (!doc)
		return -1;
	for (xmlNodePtr m = find(xmlDocGetRootElement(doc), "ProbeMatch"); m && n < max;
	     m = m->next) {
		char xaddrs[1024], scopes[1024], *tok, *save = NULL;

		if (!named(m, "ProbeMatch"))
			continue;
		text_of(find(m->children, "XAddrs"), xaddrs, sizeof(xaddrs));
		text_of(find(m->children, "Scopes"), scopes, sizeof(scopes));
		memset(&out[n], 0, sizeof(out[n]));
		for (tok = strtok_r(xaddrs, " \t\r\n", &save); tok; tok = strtok_r(NULL, " \t\r\n", &save))
			if (answers_url_ok(tok)) {
				snprintf(out[n].xaddr, sizeof(out[n].xaddr), "%s", tok);
				break;
			}
		if (!out[n].xaddr[0])
			continue;
		scope_value(scopes, "onvif://www.onvif.org/name/", out[n].name, sizeof(out[n].name));
		scope_value(scopes, "onvif://www.onvif.org/hardware/", out[n].hardware,
			    sizeof(out[n].hardware));
		n++;
	}
	xmlFreeDoc(doc);
	return n;
}

/* The value of header name in an HTTP-like text, printable, cut to size. */
static void header(const char *text, size_t len, const char *name, char *out, size_t size)
{
	size_t k = strlen(name);

	out[0] = '\0';
	for (const char *line = text, *end = text + len; line < end;) {
		const char *eol = memchr(line, '\n', (size_t)(end - line));
		size_t n = eol ? (size_t)(eol - line) : (size_t)(end - line);

		if (n > k && line[k] == ':' && strncasecmp(line, name, k) == 0) {
			const char *v = line + k + 1;
			size_t m = n - k - 1, o = 0;

			while (m && (*v == ' ' || *v == '\t'))
				v++, m--;
			while (m && (v[m - 1] == '\r' || v[m - 1] == ' '))
				m--;
			for (size_t i = 0; i < m && o + 1 < size; i++)
				out[o++] = (unsigned char)v[i] >= 0x20 && (unsigned char)v[i] < 0x7f ? v[i] : '?';
			out[o] = '\0';
			return;
		}
		line += n + 1;
	}
}

bool answers_ssdp(const char *text, size_t len, struct ssdp_answer *out)
{
	memset(out, 0, sizeof(*out));
	if (len < 12 || strncmp(text, "HTTP/1.1 200", 12) != 0)
		return false;
	header(text, len, "LOCATION", out->location, sizeof(out->location));
	header(text, len, "SERVER", out->server, sizeof(out->server));
	header(text, len, "USN", out->usn, sizeof(out->usn));
	if (!answers_url_ok(out->location))
		out->location[0] = '\0';
	return true;
}

/* -2 or -3 for a SOAP fault, 0 if there is none. */
static int fault(xmlDocPtr doc)
{
	xmlNodePtr f = find(xmlDocGetRootElement(doc), "Fault");
	char sub[128];

	if (!f)
		return 0;
	text_of(find(f->children, "Subcode"), sub, sizeof(sub));
	return strstr(sub, "NotAuthorized") || strstr(sub, "FailedAuthentication") ? -2 : -3;
}

/* An ONVIF answer as a document in *doc: 0, -1 if it is not XML, or a
 * fault's code (then there is no document). */
static int read_answer(const char *xml, size_t len, xmlDocPtr *doc)
{
	int ret;

	if (!(*doc = read_xml(xml, len)))
		return -1;
	if ((ret = fault(*doc)) < 0) {
		xmlFreeDoc(*doc);
		*doc = NULL;
	}
	return ret;
}

int answers_profiles(const char *xml, size_t len, struct media_profile *out, int max)
{
	xmlDocPtr doc;
	xmlNodePtr body;
	int n = 0, ret = read_answer(xml, len, &doc);

	if (ret < 0)
		return ret;
	body = find(xmlDocGetRootElement(doc), "GetProfilesResponse");
	for (xmlNodePtr p = body ? body->children : NULL; p && n < max; p = p->next) {
		xmlChar *token;
		xmlNodePtr enc;
		char num[16];

		if (!named(p, "Profiles"))
			continue;
		memset(&out[n], 0, sizeof(out[n]));
		token = xmlGetProp(p, (const xmlChar *)"token");
		if (!token)
			continue;
		snprintf(out[n].token, sizeof(out[n].token), "%s", (const char *)token);
		xmlFree(token);
		if (!out[n].token[0] || !printable(out[n].token))
			continue;
		text_of(find(p->children, "Name"), out[n].name, sizeof(out[n].name));
		enc = find(p->children, "VideoEncoderConfiguration");
		if (enc) {
			text_of(find(enc->children, "Encoding"), out[n].encoding, sizeof(out[n].encoding));
			text_of(find(enc->children, "Width"), num, sizeof(num));
			out[n].width = atoi(num);
			text_of(find(enc->children, "Height"), num, sizeof(num));
			out[n].height = atoi(num);
		}
		n++;
	}
	xmlFreeDoc(doc);
	return n;
}

int answers_stream_uri(const char *xml, size_t len, char *uri, size_t size)
{
	char got[ANSWER_TEXT_MAX];
	const char *host, *at;
	xmlDocPtr doc;
	int ret = read_answer(xml, len, &doc);

	uri[0] = '\0';
	if (ret < 0)
		return ret;
	text_of(find(xmlDocGetRootElement(doc), "Uri"), got, sizeof(got));
	xmlFreeDoc(doc);
	if (strncmp(got, "rtsp://", 7) != 0 || !printable(got) || strlen(got) >= ANSWER_TEXT_MAX - 1)
		return -3;
	/* Credentials in the URI are dropped: the config names them. They end
	 * at the authority's last '@' (a password may hold one). */
	host = got + 7;
	at = NULL;
	for (const char *p = host; *p && *p != '/'; p++)
		if (*p == '@')
			at = p;
	snprintf(uri, size, "rtsp://%s", at ? at + 1 : host);
	return 0;
}

int answers_media_xaddr(const char *xml, size_t len, char *out, size_t size)
{
	xmlNodePtr media;
	xmlDocPtr doc;
	int ret = read_answer(xml, len, &doc);

	out[0] = '\0';
	if (ret < 0)
		return ret;
	media = find(xmlDocGetRootElement(doc), "Media");
	if (media)
		text_of(find(media->children, "XAddr"), out, size);
	xmlFreeDoc(doc);
	if (!answers_url_ok(out))
		out[0] = '\0';
	return 0;
}
