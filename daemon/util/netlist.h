/* netlist.h - a list of networks ("192.168.0.0/16 fd00::/8 10.1.2.3"), for
 * who may connect to a listener no password guards. */
#ifndef CAMFS_NETLIST_H
#define CAMFS_NETLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/socket.h>

#define NETLIST_MAX 32

struct netlist_net {
	int family;                 /* AF_INET or AF_INET6 */
	unsigned char addr[16];     /* network byte order; 4 used for AF_INET */
	int prefix;                 /* bits that must match */
};

struct netlist {
	struct netlist_net nets[NETLIST_MAX];
	size_t n;
};

/* Parses space-separated ADDRESS[/PREFIX] entries. 0, or -EINVAL with
 * *bad pointing at the first entry that is not one (or -E2BIG past
 * NETLIST_MAX). An empty text is an empty list: nobody. */
int netlist_parse(const char *text, struct netlist *out, const char **bad);

/* Whether sa (IPv4, IPv6, or IPv4 mapped into IPv6) is on one of the
 * networks. */
bool netlist_contains(const struct netlist *l, const struct sockaddr *sa);

#endif
