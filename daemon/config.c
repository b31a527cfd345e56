/* config.c - (being written) */
#include "config.h"
