/* source.c - (being written) */
#include "source.h"
