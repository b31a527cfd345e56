/* mp4box.c - (being written) */
#include "mp4box.h"
