/*
 * struct errbuf carries one error sentence from where input went wrong to
 * the user (MCP reply, CLI line). err_set() returns -1 so a failing
 * function can end with "return err_set(err, ...)".
 */
#ifndef ERRBUF_H
#define ERRBUF_H

#define ERRBUF_SIZE 1024

struct errbuf {
	char	msg[ERRBUF_SIZE];
};

int	err_set(struct errbuf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	err_prefix(struct errbuf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	err_clear(struct errbuf *);

#endif
