#ifndef CAMFS_CAMERA_H
#define CAMFS_CAMERA_H
#endif
