/* demo.c - (being written) */
#include "demo.h"
