/* writer.c - (being written) */
#include "writer.h"
