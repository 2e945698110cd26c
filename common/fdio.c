/*
 * fd_read_full: short reads and EINTR are the caller's problem nowhere else.
 */
#include <errno.h>
#include <unistd.h>

#include "fdio.h"

ssize_t
fd_read_full(int fd, void *buf, size_t size)
{
	char *p = buf;
	size_t len = 0;
	ssize_t n;

	while (len < size) {
		n = read(fd, p + len, size - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			return -1;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	return (ssize_t)len;
}
