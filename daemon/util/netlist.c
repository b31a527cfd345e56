/* netlist.c - networks as address bytes and a prefix length; a mapped
 * IPv6 address (::ffff:a.b.c.d) is compared as the IPv4 address it is. */
#include "util/netlist.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

static int parse_one(const char *s, size_t len, struct netlist_net *net)
{
	char text[64], *slash;
	long prefix;
	int max;

	if (len == 0 || len >= sizeof(text))
		return -EINVAL;
	memcpy(text, s, len);
	text[len] = '\0';
	slash = strchr(text, '/');
	if (slash)
		*slash = '\0';
	memset(net, 0, sizeof(*net));
	if (inet_pton(AF_INET, text, net->addr) == 1) {
		net->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, text, net->addr) == 1) {
		net->family = AF_INET6;
		max = 128;
	} else {
		return -EINVAL;
	}
	prefix = max;
	if (slash) {
		char *end;

		if (!slash[1] || slash[1] < '0' || slash[1] > '9')
			return -EINVAL;
		prefix = strtol(slash + 1, &end, 10);
		if (*end || prefix > max)
			return -EINVAL;
	}
	net->prefix = (int)prefix;
	return 0;
}

int netlist_parse(const char *text, struct netlist *out, const char **bad)
{
	const char *p = text;

	out->n = 0;
	*bad = NULL;
	for (;;) {
		size_t len;

		p += strspn(p, " \t,");
		if (!*p)
			return 0;
		len = strcspn(p, " \t,");
		if (out->n == NETLIST_MAX) {
			*bad = p;
			return -E2BIG;
		}
		if (parse_one(p, len, &out->nets[out->n]) < 0) {
			*bad = p;
			return -EINVAL;
		}
		out->n++;
		p += len;
	}
}

static bool prefix_matches(const unsigned char *a, const unsigned char *b, int bits)
{
	int whole = bits / 8, rest = bits % 8;

	if (memcmp(a, b, (size_t)whole) != 0)
		return false;
	return !rest || ((a[whole] ^ b[whole]) & (0xff << (8 - rest)) & 0xff) == 0;
}

bool netlist_contains(const struct netlist *l, const struct sockaddr *sa)
{
	unsigned char addr[16];
	int family = sa->sa_family;

	if (family == AF_INET) {
		memcpy(addr, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else if (family == AF_INET6) {
		const struct in6_addr *a6 = &((const struct sockaddr_in6 *)sa)->sin6_addr;

		if (IN6_IS_ADDR_V4MAPPED(a6)) {
			family = AF_INET;
			memcpy(addr, a6->s6_addr + 12, 4);
		} else {
			memcpy(addr, a6->s6_addr, 16);
		}
	} else {
		return false;
	}
	for (size_t i = 0; i < l->n; i++)
		if (l->nets[i].family == family &&
		    prefix_matches(addr, l->nets[i].addr, l->nets[i].prefix))
			return true;
	return false;
}
