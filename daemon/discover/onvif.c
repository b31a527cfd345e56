/* onvif.c - SOAP requests and WS-Security's UsernameToken digest:
 * Base64(SHA-1(nonce + created + password)). */
#include "discover/onvif.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>
#include <openssl/evp.h>
#include <openssl/crypto.h>
#include <openssl/rand.h>

/* An answer bigger than this is no ONVIF answer: the call fails. */
#define ANSWER_MAX (1 << 20)

struct body {
	char *data;
	size_t size;
};

static size_t take(char *p, size_t size, size_t n, void *opaque)
{
	struct body *b = opaque;
	size_t add = size * n;
	char *grown;

	if (b->size + add > ANSWER_MAX || !(grown = realloc(b->data, b->size + add + 1)))
		return 0;   /* curl fails the transfer */
	memcpy(grown + b->size, p, add);
	b->data = grown;
	b->size += add;
	b->data[b->size] = '\0';
	return add;
}

/* s with &, <, >, " escaped, into out; false if it does not fit. */
static bool xml_escape(const char *s, char *out, size_t size)
{
	size_t o = 0;

	for (; *s; s++) {
		const char *e = *s == '&' ? "&amp;" : *s == '<' ? "&lt;" : *s == '>' ? "&gt;" :
				*s == '"' ? "&quot;" : NULL;
		size_t n = e ? strlen(e) : 1;

		if (o + n >= size)
			return false;
		memcpy(out + o, e ? e : s, n);
		o += n;
	}
	out[o] = '\0';
	return true;
}

/* The Security header for o's user, or "" without one. */
static int security_header(const struct onvif *o, char *out, size_t size)
{
	unsigned char nonce[16], digest[EVP_MAX_MD_SIZE], *input;
	char created[32], nonce64[32], digest64[64], user[256];
	const char *password = o->password ? o->password : "";
	size_t n;
	struct tm tm;
	time_t now = time(NULL);
	int ok;

	out[0] = '\0';
	if (!o->user)
		return 0;
	if (!xml_escape(o->user, user, sizeof(user)) || RAND_bytes(nonce, sizeof(nonce)) != 1)
		return -1;
	gmtime_r(&now, &tm);
	strftime(created, sizeof(created), "%Y-%m-%dT%H:%M:%SZ", &tm);
	n = sizeof(nonce) + strlen(created) + strlen(password);
	if (!(input = malloc(n)))
		return -1;
	memcpy(input, nonce, sizeof(nonce));
	memcpy(input + sizeof(nonce), created, strlen(created));
	memcpy(input + sizeof(nonce) + strlen(created), password, strlen(password));
	ok = EVP_Digest(input, n, digest, NULL, EVP_sha1(), NULL);
	OPENSSL_cleanse(input, n);   /* it held the password */
	free(input);
	if (!ok)
		return -1;
	EVP_EncodeBlock((unsigned char *)nonce64, nonce, sizeof(nonce));
	EVP_EncodeBlock((unsigned char *)digest64, digest, 20);
	snprintf(out, size,
		 "<s:Header><Security s:mustUnderstand=\"1\" xmlns=\"http://docs.oasis-open.org/wss/"
		 "2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd\"><UsernameToken>"
		 "<Username>%s</Username><Password Type=\"http://docs.oasis-open.org/wss/2004/01/"
		 "oasis-200401-wss-username-token-profile-1.0#PasswordDigest\">%s</Password>"
		 "<Nonce EncodingType=\"http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-"
		 "soap-message-security-1.0#Base64Binary\">%s</Nonce><Created xmlns=\"http://docs."
		 "oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd\">%s</Created>"
		 "</UsernameToken></Security></s:Header>",
		 user, digest64, nonce64, created);
	return 0;
}

/* POSTs body_xml (the inside of s:Body) to url; the answer in *answer
 * (freed by the caller). 0, or -4 with o->error set. */
static int call(struct onvif *o, const char *url, const char *body_xml, struct body *answer)
{
	char header[2048], *request = NULL;
	struct curl_slist *headers = NULL;
	CURL *curl = curl_easy_init();
	long status = 0;
	CURLcode rc;
	int ret = -4;

	answer->data = NULL;
	answer->size = 0;
	if (!curl || security_header(o, header, sizeof(header)) < 0 ||
	    asprintf(&request,
		     "<?xml version=\"1.0\" encoding=\"UTF-8\"?><s:Envelope"
		     " xmlns:s=\"http://www.w3.org/2003/05/soap-envelope\""
		     " xmlns:tds=\"http://www.onvif.org/ver10/device/wsdl\""
		     " xmlns:trt=\"http://www.onvif.org/ver10/media/wsdl\""
		     " xmlns:tt=\"http://www.onvif.org/ver10/schema\">%s<s:Body>%s</s:Body></s:Envelope>",
		     header, body_xml) < 0) {
		snprintf(o->error, sizeof(o->error), "out of memory");
		request = NULL;
		goto out;
	}
	headers = curl_slist_append(headers, "Content-Type: application/soap+xml; charset=utf-8");
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, o->timeout_ms);
	curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, take);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, answer);
	rc = curl_easy_perform(curl);
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	if (rc != CURLE_OK) {
		snprintf(o->error, sizeof(o->error), "%s",
			 rc == CURLE_WRITE_ERROR ? "answer over 1 MiB" : curl_easy_strerror(rc));
		goto out;
	}
	if (!answer->data) {
		snprintf(o->error, sizeof(o->error), "empty answer (HTTP %ld)", status);
		goto out;
	}
	ret = 0;
out:
	if (ret < 0) {
		free(answer->data);
		answer->data = NULL;
	}
	curl_slist_free_all(headers);
	curl_easy_cleanup(curl);
	free(request);
	return ret;
}

static void say(struct onvif *o, int ret, const char *what)
{
	if (ret == -1)
		snprintf(o->error, sizeof(o->error), "%s: the answer is not XML", what);
	else if (ret == -2)
		snprintf(o->error, sizeof(o->error), "%s: authentication needed or refused "
			 "(ONVIF_USER, ONVIF_PASSWORD)", what);
	else if (ret == -3)
		snprintf(o->error, sizeof(o->error), "%s: the device answered with a fault", what);
}

int onvif_profiles(struct onvif *o, struct media_profile *out, int max)
{
	struct body b;
	int ret = call(o, o->device, "<tds:GetCapabilities><tds:Category>Media</tds:Category>"
				     "</tds:GetCapabilities>", &b);

	if (ret < 0)
		return ret;
	ret = answers_media_xaddr(b.data, b.size, o->media, sizeof(o->media));
	free(b.data);
	if (ret < 0) {
		say(o, ret, "GetCapabilities");
		return ret;
	}
	if (!o->media[0])   /* many devices answer media calls here too */
		snprintf(o->media, sizeof(o->media), "%s", o->device);
	if ((ret = call(o, o->media, "<trt:GetProfiles/>", &b)) < 0)
		return ret;
	ret = answers_profiles(b.data, b.size, out, max);
	free(b.data);
	say(o, ret, "GetProfiles");
	return ret;
}

int onvif_stream_uri(struct onvif *o, const char *token, char *uri, size_t size)
{
	char escaped[256], request[768];
	struct body b;
	int ret;

	if (!xml_escape(token, escaped, sizeof(escaped)))
		return -3;
	snprintf(request, sizeof(request),
		 "<trt:GetStreamUri><trt:StreamSetup><tt:Stream>RTP-Unicast</tt:Stream>"
		 "<tt:Transport><tt:Protocol>RTSP</tt:Protocol></tt:Transport></trt:StreamSetup>"
		 "<trt:ProfileToken>%s</trt:ProfileToken></trt:GetStreamUri>", escaped);
	if ((ret = call(o, o->media[0] ? o->media : o->device, request, &b)) < 0)
		return ret;
	ret = answers_stream_uri(b.data, b.size, uri, size);
	free(b.data);
	say(o, ret, "GetStreamUri");
	return ret;
}
