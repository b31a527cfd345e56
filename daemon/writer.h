#ifndef CAMFS_WRITER_H
#define CAMFS_WRITER_H
#endif
