/* segment.c - (being written) */
#include "segment.h"
