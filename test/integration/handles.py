#!/usr/bin/env python3
"""handles.py - file handles as NFS servers use them (name_to_handle_at(2),
open_by_handle_at(2)), for nfs.sh:
  handles.py save PATH FILE          the handle of PATH into FILE
  handles.py cat MOUNT FILE OUT      the file of the handle in FILE, opened
                                     through MOUNT, copied to OUT
  handles.py parent MOUNT FILE       the names in the parent of the directory
                                     of the handle in FILE, one per line
"""
import ctypes
import os
import sys

AT_FDCWD = -100
libc = ctypes.CDLL(None, use_errno=True)


class FileHandle(ctypes.Structure):
    _fields_ = [('handle_bytes', ctypes.c_uint), ('handle_type', ctypes.c_int),
                ('f_handle', ctypes.c_ubyte * 128)]


def fail(what):
    err = ctypes.get_errno()
    sys.exit('%s: %s' % (what, os.strerror(err)))


def save(path, out):
    fh, mount_id = FileHandle(handle_bytes=128), ctypes.c_int()
    if libc.name_to_handle_at(AT_FDCWD, path.encode(), ctypes.byref(fh), ctypes.byref(mount_id), 0):
        fail('name_to_handle_at ' + path)
    with open(out, 'wb') as f:
        f.write(bytes(fh))


def open_handle(mount, file, flags):
    with open(file, 'rb') as f:
        fh = FileHandle.from_buffer_copy(f.read())
    mount_fd = os.open(mount, os.O_RDONLY | os.O_DIRECTORY)
    fd = libc.open_by_handle_at(mount_fd, ctypes.byref(fh), flags)
    if fd < 0:
        fail('open_by_handle_at')
    os.close(mount_fd)
    return fd


def main():
    if sys.argv[1] == 'save':
        save(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == 'cat':
        with os.fdopen(open_handle(sys.argv[2], sys.argv[3], os.O_RDONLY), 'rb') as f, \
                open(sys.argv[4], 'wb') as out:
            out.write(f.read())
    elif sys.argv[1] == 'parent':
        fd = open_handle(sys.argv[2], sys.argv[3], os.O_RDONLY | os.O_DIRECTORY)
        parent = os.open('..', os.O_RDONLY | os.O_DIRECTORY, dir_fd=fd)
        print('\n'.join(sorted(os.listdir(parent))))


main()
