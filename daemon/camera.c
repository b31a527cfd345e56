/* camera.c - (being written) */
#include "camera.h"
