/*
 * AWS XML responses (Query and REST-XML protocols) parsed with expat into a
 * small read-only tree, plus the two XML error formats.
 */
#ifndef AWSXML_H
#define AWSXML_H

#include <stddef.h>

struct errbuf;

/*
 * Bounds on a response body. A 1000-instance DescribeInstances page is a few
 * MB and about 150k elements; anything past these is refused, not parsed.
 */
#define AWSXML_MAX_SIZE		(16 * 1024 * 1024)
#define AWSXML_MAX_DEPTH	64
#define AWSXML_MAX_NODES	1000000

/* A node: element name without namespace prefix, its text, its children. */
struct awsxml_node {
	char			*name;
	char			*text;	/* concatenated character data, "" if none */
	struct awsxml_node	*parent;
	struct awsxml_node	*first_child;
	struct awsxml_node	*next;	/* next sibling */
};

/*
 * Parse a whole body; a malformed or over-deep body is an error, never a crash.
 * Returns the document element (e.g. <AssumeRoleResponse>), or NULL with err
 * set. DOCTYPE declarations are refused. An element with children keeps ""
 * as text when its own character data is only formatting whitespace; a leaf
 * keeps its text exactly, spaces included.
 */
struct awsxml_node *awsxml_parse(const char *body, size_t len,
	    struct errbuf *);
void	awsxml_free(struct awsxml_node *);

/*
 * Descend by a '/'-separated path of child element names, relative to the
 * node given and not naming it: on <AssumeRoleResponse>, use
 * "AssumeRoleResult/Credentials/AccessKeyId". The first child of each name
 * is taken; "" returns the node itself. NULL when absent or node is NULL.
 */
const struct awsxml_node *awsxml_find(const struct awsxml_node *,
	    const char *path);
/* Text at path, or NULL when the element is absent. */
const char *awsxml_text(const struct awsxml_node *, const char *path);
/*
 * Iterate children named name: first, then next with the same name. Both
 * accept NULL, so awsxml_first(awsxml_find(root, "reservationSet"), "item")
 * is safe when the set is absent.
 */
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

/*
 * Copy an AWS error code or message (or any response text bound for an error
 * sentence) into dst: always NUL-terminated, cut on a UTF-8 character
 * boundary, control characters replaced by spaces so a hostile body cannot
 * forge log lines. dstsz 0 writes nothing. awsjson uses it too.
 */
void	awsxml_errcpy(char *dst, size_t dstsz, const char *src);

#endif
