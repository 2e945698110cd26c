/*
 * Whole reads from a file descriptor, the one EINTR-safe read loop that
 * files (credentials, policy) and the worker channel share.
 */
#ifndef FDIO_H
#define FDIO_H

#include <sys/types.h>
#include <stddef.h>

/* read(2) until size bytes or end of file: the count, or -1 (errno set). */
ssize_t	fd_read_full(int fd, void *buf, size_t size);

#endif
