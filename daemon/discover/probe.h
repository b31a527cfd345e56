/* probe.h - asking the LAN who is there: a WS-Discovery Probe for ONVIF
 * cameras (NetworkVideoTransmitter) and an SSDP M-SEARCH, both multicast
 * with TTL 1 (this network only), answers taken until a deadline. */
#ifndef CAMFS_PROBE_H
#define CAMFS_PROBE_H

#include <stdint.h>

#include "discover/answers.h"

#define PROBE_DEVICES_MAX 64

struct probe_results {
	struct probe_match onvif[PROBE_DEVICES_MAX];
	int n_onvif;
	struct ssdp_answer ssdp[PROBE_DEVICES_MAX];
	char ssdp_from[PROBE_DEVICES_MAX][46];   /* the answering address */
	int n_ssdp;
	int ignored;                             /* answers that did not parse */
};

/* Sends both probes and collects answers for timeout_ms. Devices that
 * answer twice are listed once. 0 or negative errno (no socket). */
int probe_run(int timeout_ms, struct probe_results *out);

#endif
