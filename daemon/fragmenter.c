/* fragmenter.c - (being written) */
#include "fragmenter.h"
