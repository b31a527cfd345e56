#ifndef CAMFS_SEGMENT_H
#define CAMFS_SEGMENT_H
#endif
