/* probe.c - the two multicast probes and their answers. */
#include "discover/probe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <openssl/rand.h>

#define GROUP "239.255.255.250"
#define WSD_PORT 3702
#define SSDP_PORT 1900
#define DATAGRAM_MAX 65536

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A UDP socket for multicast on this network only. */
static int multicast_socket(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	unsigned char ttl = 1;

	if (fd < 0)
		return -errno;
	setsockopt(fd, IPPROTO_IP, IP_MULTICAST_TTL, &ttl, sizeof(ttl));
	return fd;
}

static int send_to_group(int fd, int port, const char *msg)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(port) };

	inet_pton(AF_INET, GROUP, &to.sin_addr);
	return sendto(fd, msg, strlen(msg), 0, (struct sockaddr *)&to, sizeof(to)) < 0 ? -errno : 0;
}

static int send_wsd_probe(int fd)
{
	unsigned char id[16];
	char msg[1024];

	if (RAND_bytes(id, sizeof(id)) != 1)
		return -EIO;
	snprintf(msg, sizeof(msg),
		 "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
		 "<e:Envelope xmlns:e=\"http://www.w3.org/2003/05/soap-envelope\""
		 " xmlns:w=\"http://schemas.xmlsoap.org/ws/2004/08/addressing\""
		 " xmlns:d=\"http://schemas.xmlsoap.org/ws/2005/04/discovery\""
		 " xmlns:dn=\"http://www.onvif.org/ver10/network/wsdl\"><e:Header>"
		 "<w:MessageID>uuid:%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x</w:MessageID>"
		 "<w:To e:mustUnderstand=\"true\">urn:schemas-xmlsoap-org:ws:2005:04:discovery</w:To>"
		 "<w:Action e:mustUnderstand=\"true\">http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</w:Action>"
		 "</e:Header><e:Body><d:Probe><d:Types>dn:NetworkVideoTransmitter</d:Types></d:Probe>"
		 "</e:Body></e:Envelope>",
		 id[0], id[1], id[2], id[3], id[4], id[5], id[6], id[7], id[8], id[9], id[10], id[11],
		 id[12], id[13], id[14], id[15]);
	return send_to_group(fd, WSD_PORT, msg);
}

static int send_msearch(int fd, int timeout_ms)
{
	char msg[256];

	snprintf(msg, sizeof(msg),
		 "M-SEARCH * HTTP/1.1\r\nHOST: " GROUP ":1900\r\nMAN: \"ssdp:discover\"\r\n"
		 "MX: %d\r\nST: ssdp:all\r\n\r\n", timeout_ms >= 2000 ? 2 : 1);
	return send_to_group(fd, SSDP_PORT, msg);
}

static void take_onvif(struct probe_results *r, const char *buf, size_t n)
{
	struct probe_match got[8];
	int k = answers_probe_matches(buf, n, got, 8);

	if (k <= 0) {
		r->ignored++;
		return;
	}
	for (int i = 0; i < k && r->n_onvif < PROBE_DEVICES_MAX; i++) {
		bool seen = false;

		for (int j = 0; j < r->n_onvif && !seen; j++)
			seen = strcmp(r->onvif[j].xaddr, got[i].xaddr) == 0;
		if (!seen)
			r->onvif[r->n_onvif++] = got[i];
	}
}

static void take_ssdp(struct probe_results *r, const char *buf, size_t n, const char *from)
{
	struct ssdp_answer a;

	if (!answers_ssdp(buf, n, &a)) {
		r->ignored++;
		return;
	}
	/* A device answers once per service it has: one line per address. */
	for (int j = 0; j < r->n_ssdp; j++)
		if (strcmp(r->ssdp_from[j], from) == 0)
			return;
	if (r->n_ssdp < PROBE_DEVICES_MAX) {
		snprintf(r->ssdp_from[r->n_ssdp], sizeof(r->ssdp_from[0]), "%s", from);
		r->ssdp[r->n_ssdp++] = a;
	}
}

int probe_run(int timeout_ms, struct probe_results *out)
{
	static char buf[DATAGRAM_MAX + 1];
	struct pollfd fds[2];
	int64_t deadline = now_ms() + timeout_ms;
	int ret;

	memset(out, 0, sizeof(*out));
	fds[0] = (struct pollfd){ .fd = multicast_socket(), .events = POLLIN };
	fds[1] = (struct pollfd){ .fd = multicast_socket(), .events = POLLIN };
	if (fds[0].fd < 0 || fds[1].fd < 0) {
		ret = fds[0].fd < 0 ? fds[0].fd : fds[1].fd;
		goto out;
	}
	if ((ret = send_wsd_probe(fds[0].fd)) < 0 || (ret = send_msearch(fds[1].fd, timeout_ms)) < 0)
		goto out;
	for (int64_t left; (left = deadline - now_ms()) > 0;) {
		if (poll(fds, 2, (int)left) <= 0)
			continue;
		for (int i = 0; i < 2; i++) {
			struct sockaddr_in from;
			socklen_t len = sizeof(from);
			char addr[46];
			ssize_t n;

			if (!(fds[i].revents & POLLIN))
				continue;
			n = recvfrom(fds[i].fd, buf, DATAGRAM_MAX, 0, (struct sockaddr *)&from, &len);
			if (n <= 0)
				continue;
			buf[n] = '\0';
			inet_ntop(AF_INET, &from.sin_addr, addr, sizeof(addr));
			if (i == 0)
				take_onvif(out, buf, (size_t)n);
			else
				take_ssdp(out, buf, (size_t)n, addr);
		}
	}
	ret = 0;
out:
	for (int i = 0; i < 2; i++)
		if (fds[i].fd >= 0)
			close(fds[i].fd);
	return ret;
}
