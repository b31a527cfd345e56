/* retention.c - (being written) */
#include "retention.h"
