/*
 * AWS XML responses (Query and REST-XML protocols) parsed with expat into a
 * small read-only tree, plus the two XML error formats.
 */
#ifndef AWSXML_H
#define AWSXML_H

#include <stddef.h>

struct errbuf;

/* A node: element name without namespace prefix, its text, its children. */
struct awsxml_node {
	char			*name;
	char			*text;	/* concatenated character data, "" if none */
	struct awsxml_node	*parent;
	struct awsxml_node	*first_child;
	struct awsxml_node	*next;	/* next sibling */
};

/* Parse a whole body; a malformed or over-deep body is an error, never a crash. */
struct awsxml_node *awsxml_parse(const char *body, size_t len,
	    struct errbuf *);
void	awsxml_free(struct awsxml_node *);

/* Descend by a '/'-separated path of element names; NULL when absent. */
const struct awsxml_node *awsxml_find(const struct awsxml_node *,
	    const char *path);
/* Text at path, or NULL when the element is absent. */
const char *awsxml_text(const struct awsxml_node *, const char *path);
/* Iterate children named name: first, then next with the same name. */
const struct awsxml_node *awsxml_first(const struct awsxml_node *,
	    const char *name);
const struct awsxml_node *awsxml_next(const struct awsxml_node *);

/*
 * Recognise the Query <ErrorResponse><Error><Code/><Message/></Error> and the
 * S3 <Error><Code/><Message/></Error> forms (and EC2's <Response><Errors>).
 * Returns 0 and fills code/message (truncated to size) when the body is an
 * AWS error, -1 when it is not.
 */
int	awsxml_error(const char *body, size_t len, char *code, size_t codesz,
	    char *message, size_t messagesz);

#endif
