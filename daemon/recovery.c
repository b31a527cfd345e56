/* recovery.c - (being written) */
#include "recovery.h"
