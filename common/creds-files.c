/*
 * creds-files reads the files that hold credentials: one-line token files,
 * and the shared credentials and config files (via libinih) into a set of
 * profiles with each setting's file and line, for creds-profile.c.
 */
#include <sys/stat.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <ini.h>

#include "creds.h"
#include "creds-internal.h"
#include "errbuf.h"
#include "fdio.h"
#include "log.h"
#include "xmalloc.h"

#define CREDS_FILE_MAX		(1024 * 1024)	/* a shared file */
#define CREDS_TOKEN_MAX		(64 * 1024)	/* a token file */

/*
 * Read a whole regular file of at most max bytes, NUL-terminated. Returns 0,
 * 1 when the file does not exist, or -1 with err naming the file. The
 * buffer may hold secrets: the caller wipes it.
 */
static int
file_slurp(const char *path, size_t max, char **bufp, size_t *lenp,
    struct errbuf *err)
{
	struct stat st;
	ssize_t n;
	char *buf;
	int fd, saved;

	*bufp = NULL;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return errno == ENOENT ? 1 :
		    err_set(err, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) == -1) {
		saved = errno;
		close(fd);
		return err_set(err, "%s: %s", path, strerror(saved));
	}
	if (!S_ISREG(st.st_mode) || (size_t)st.st_size > max) {
		close(fd);
		return err_set(err, "%s: %s", path, !S_ISREG(st.st_mode) ?
		    "not a regular file" : "file too large");
	}
	buf = xmalloc((size_t)st.st_size + 1);
	n = fd_read_full(fd, buf, (size_t)st.st_size);
	saved = errno;
	close(fd);
	if (n == -1) {
		explicit_bzero(buf, (size_t)st.st_size);
		free(buf);
		return err_set(err, "%s: %s", path, strerror(saved));
	}
	buf[n] = '\0';
	*bufp = buf;
	*lenp = (size_t)n;
	return 0;
}

/*
 * A bearer token kept in a file (web identity, container authorization).
 * Trailing white space goes, since editors add a newline; a token must be
 * one line because it ends up in a header or a form field. Errors name the
 * file, never its contents.
 */
char *
creds_token_read(const char *path, struct errbuf *err)
{
	size_t len;
	char *buf;
	int r;

	if ((r = file_slurp(path, CREDS_TOKEN_MAX, &buf, &len, err)) == 1)
		err_set(err, "%s: no such file", path);
	if (r != 0)
		return NULL;
	while (len > 0 && isspace((unsigned char)buf[len - 1]))
		buf[--len] = '\0';
	if (len == 0 || strlen(buf) != len || strpbrk(buf, "\r\n") != NULL) {
		err_set(err, "%s: %s", path, len == 0 ? "token file is empty" :
		    "token file must hold one line of text");
		creds_secret_free(buf);
		return NULL;
	}
	return buf;
}

/* --- shared credentials and config files ----------------------------- */

/* ~/rel, or the variable's value with a leading "~/" expanded. */
static char *
prof_path(struct creds_chain *ch, const char *var, const char *rel)
{
	const char *v, *home;
	struct passwd *pw;

	home = creds_env(ch, "HOME");
	if (home == NULL && (pw = getpwuid(getuid())) != NULL)
		home = pw->pw_dir;
	if (home == NULL)
		home = "~";
	if ((v = creds_env(ch, var)) == NULL)
		return xprintf("%s/%s", home, rel);
	if (strncmp(v, "~/", 2) == 0)
		return xprintf("%s/%s", home, v + 2);
	return xstrdup(v);
}

void
creds_prof_set_free(struct creds_prof_set *set)
{
	size_t i, j;

	for (i = 0; i < set->nprof; i++) {
		for (j = 0; j < set->prof[i].nkv; j++) {
			free(set->prof[i].kv[j].key);
			creds_secret_free(set->prof[i].kv[j].value);
		}
		free(set->prof[i].kv);
		free(set->prof[i].name);
	}
	free(set->prof);
	for (i = 0; i < CREDS_PF_NFILES; i++)
		free(set->path[i]);
	memset(set, 0, sizeof(*set));
}

const struct creds_prof *
creds_prof_find(const struct creds_prof_set *set, const char *name)
{
	size_t i;

	for (i = 0; i < set->nprof; i++)
		if (strcmp(set->prof[i].name, name) == 0)
			return &set->prof[i];
	return NULL;
}

static int
prof_index(struct creds_prof_set *set, const char *name)
{
	const struct creds_prof *p;

	if ((p = creds_prof_find(set, name)) != NULL)
		return (int)(p - set->prof);
	set->prof = xreallocarray(set->prof, set->nprof + 1,
	    sizeof(*set->prof));
	memset(&set->prof[set->nprof], 0, sizeof(*set->prof));
	set->prof[set->nprof].name = xstrdup(name);
	return (int)set->nprof++;
}

/* Later lines of the same file win, as in configparser's last assignment. */
static void
prof_put(struct creds_prof *p, const char *key, char *value, int file, int line)
{
	struct creds_prof_kv *kv;
	size_t i;

	for (i = 0; i < p->nkv; i++) {
		kv = &p->kv[i];
		if (kv->file == file && strcasecmp(kv->key, key) == 0) {
			creds_secret_free(kv->value);
			kv->value = value;
			kv->line = line;
			return;
		}
	}
	p->kv = xreallocarray(p->kv, p->nkv + 1, sizeof(*p->kv));
	kv = &p->kv[p->nkv++];
	kv->key = xstrdup(key);
	kv->value = value;
	kv->file = file;
	kv->line = line;
}

/*
 * A non-empty setting; file -1 looks in the credentials file first. Keys
 * compare without case, as configparser lowercases them.
 */
const struct creds_prof_kv *
creds_prof_get(const struct creds_prof *p, const char *key, int file)
{
	const struct creds_prof_kv *kv;
	size_t i;

	if (file == -1) {
		if ((kv = creds_prof_get(p, key, CREDS_PF_CREDENTIALS)) != NULL)
			return kv;
		return creds_prof_get(p, key, CREDS_PF_CONFIG);
	}
	for (i = 0; i < p->nkv; i++) {
		kv = &p->kv[i];
		if (kv->file == file && strcasecmp(kv->key, key) == 0 &&
		    *kv->value != '\0')
			return kv;
	}
	return NULL;
}

/*
 * Reading the AWS files with libinih. inih parses sections, "name = value"
 * and "name: value", ';' and '#' comment lines and indented continuation
 * lines, which covers the AWS format, except for three things handled in
 * the reader callback below, which feeds inih one line per call:
 *  - inih reads at most 200 bytes of a line (Debian's build) and parses the
 *    rest as another line, yet a session token alone is 400-1200 bytes. An
 *    over-long "name = value" line reaches inih as "name=" plus a one-byte
 *    stand-in, and the handler takes the real value from the reader.
 *  - inih treats every indented line after a setting as a continuation;
 *    the AWS CLI (Python configparser) only when it is indented deeper than
 *    that setting, so "  key = v" lines at one indentation are settings.
 *    The reader applies configparser's rule and strips the indentation of
 *    lines that are not continuations.
 *  - inih's handler gets no line number in this build, and errors must
 *    name the line; the reader counts lines.
 * Continuation lines belong to sub-sections ("s3 =" then indented
 * "max_concurrent_requests = 20"), which credentials never need; they are
 * skipped, unless they continue a setting read here: configparser would
 * make that a multi-line key or secret, which is an error. One difference
 * stays: inih drops " ; comment" after a value, configparser keeps it; no
 * key id, secret or token contains a ';'.
 */
/* The settings creds-profile.c reads; a continuation must not extend them. */
static const char *const prof_keys[] = {
	"aws_access_key_id", "aws_secret_access_key", "aws_session_token",
	"role_arn", "source_profile", "credential_source", "external_id",
	"role_session_name", "duration_seconds", "web_identity_token_file",
	"region", "credential_process", "sso_session", "sso_start_url",
};

static int
prof_key_read(const char *name)
{
	size_t i;

	for (i = 0; i < CREDS_NITEMS(prof_keys); i++)
		if (strcasecmp(name, prof_keys[i]) == 0)
			return 1;
	return 0;
}

#define INI_NO_SECTION	(-2)	/* before the first [section] */
#define INI_OTHER	(-1)	/* a config section that is not a profile */
#define INI_LONG	"\001"	/* stands in for an over-long value */

struct ini_src {
	struct creds_prof_set	*set;
	int		 file;
	const char	*buf;
	size_t		 len;
	size_t		 off;
	int		 line;		/* of the line handed out last */
	long		 key_indent;	/* -1: no setting since the section */
	int		 cont;		/* that line continues a value */
	int		 cur;		/* profile index, or INI_* */
	const char	*long_val;	/* value of an over-long line */
	size_t		 long_len;
	int		 err_line;	/* first error found here, or 0 */
	struct errbuf	 err;
};

static void __attribute__((format(printf, 2, 3)))
ini_fail(struct ini_src *src, const char *fmt, ...)
{
	char reason[512];
	va_list ap;

	if (src->err_line != 0)
		return;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	src->err_line = src->line;
	err_set(&src->err, "%s line %d: %s", src->set->path[src->file],
	    src->line, reason);
}

/*
 * The profile a section header names, or NULL when it names none. In the
 * credentials file the whole name is the profile; in the config file only
 * [default] and [profile NAME] are profiles (botocore's reading), other
 * sections (sso-session, services, plugins) are skipped.
 */
static char *
ini_profile_name(int file, const char *s, size_t len)
{
	while (len > 0 && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len > 0 && isspace((unsigned char)s[len - 1]))
		len--;
	if (file == CREDS_PF_CREDENTIALS)
		return len > 0 ? xstrndup(s, len) : NULL;
	if (len == 7 && memcmp(s, "default", 7) == 0)
		return xstrdup("default");
	if (len < 9 || memcmp(s, "profile", 7) != 0 ||
	    !isblank((unsigned char)s[7]))
		return NULL;
	for (s += 8, len -= 8; isblank((unsigned char)*s); s++, len--)
		;
	return xstrndup(s, len);
}

static void
ini_section(struct ini_src *src, const char *p, size_t len)
{
	const char *end;
	char *name;

	if ((end = memchr(p, ']', len)) == NULL)
		return;		/* inih reports the line */
	name = ini_profile_name(src->file, p + 1, (size_t)(end - p - 1));
	if (name == NULL && src->file == CREDS_PF_CREDENTIALS)
		ini_fail(src, "empty section name []");
	src->cur = name != NULL ? prof_index(src->set, name) : INI_OTHER;
	free(name);
}

/* Copy for inih; only lines whose text is never used get cut. */
static void
ini_emit(char *str, size_t num, const char *lead, const char *p, size_t len)
{
	size_t l = strlen(lead);

	if (l + len >= num)
		len = num - 1 - l;
	memcpy(str, lead, l);
	memcpy(str + l, p, len);
	str[l + len] = '\0';
}

/* An over-long setting: split it as inih would, keep the value aside. */
static void
ini_long(struct ini_src *src, char *str, size_t num, const char *p,
    size_t len)
{
	const char *sep, *v, *ve, *q;
	size_t nlen;
	int was_space = 0;

	for (sep = p; sep < p + len && *sep != '=' && *sep != ':'; sep++)
		;
	if (sep == p + len) {
		ini_emit(str, num, "", p, len);	/* inih reports the line */
		return;
	}
	for (nlen = (size_t)(sep - p); nlen > 0 &&
	    isspace((unsigned char)p[nlen - 1]); nlen--)
		;
	if (nlen + 3 > num) {
		ini_fail(src, "setting name longer than %zu bytes", num - 3);
		ini_emit(str, num, "", "#", 1);
		return;
	}
	for (v = sep + 1, ve = p + len; v < ve && isspace((unsigned char)*v);)
		v++;
	for (q = v; q < ve; q++) {	/* inih's inline " ;comment" rule */
		if (was_space && *q == ';') {
			ve = q;
			break;
		}
		was_space = isspace((unsigned char)*q);
	}
	while (ve > v && isspace((unsigned char)ve[-1]))
		ve--;
	memcpy(str, p, nlen);
	memcpy(str + nlen, "=" INI_LONG, 3);
	src->long_val = v;
	src->long_len = (size_t)(ve - v);
}

static void
ini_classify(struct ini_src *src, char *str, size_t num, const char *p,
    size_t len, size_t indent)
{
	if (memchr(p, '\0', len) != NULL) {
		ini_fail(src, "NUL byte in the line");
		ini_emit(str, num, "", "#", 1);
	} else if (len == 0 || *p == '#' || *p == ';')
		ini_emit(str, num, "", p, len);
	else if (src->key_indent >= 0 && (long)indent > src->key_indent) {
		/* One leading blank is enough for inih to see a continuation. */
		src->cont = 1;
		ini_emit(str, num, " ", p, len);
	} else if (*p == '[') {
		src->key_indent = -1;
		ini_section(src, p, len);
		ini_emit(str, num, "", p, len);
	} else {
		src->key_indent = (long)indent;
		if (len < num)
			ini_emit(str, num, "", p, len);
		else
			ini_long(src, str, num, p, len);
	}
}

static char *
ini_read_line(char *str, int num, void *arg)
{
	struct ini_src *src = arg;
	const char *p, *e, *nl;
	size_t indent = 0;

	if (src->off >= src->len || num < 8)
		return NULL;
	p = src->buf + src->off;
	if ((nl = memchr(p, '\n', src->len - src->off)) != NULL) {
		e = nl;
		src->off = (size_t)(nl - src->buf) + 1;
	} else {
		e = src->buf + src->len;
		src->off = src->len;
	}
	src->line++;
	src->cont = 0;
	src->long_val = NULL;
	if (src->line == 1 && e - p >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
		p += 3;
	for (; p < e && (*p == ' ' || *p == '\t'); p++)
		indent++;
	while (e > p && isspace((unsigned char)e[-1]))
		e--;
	ini_classify(src, str, (size_t)num, p, (size_t)(e - p), indent);
	return str;
}

static int
ini_setting(void *arg, const char *section, const char *name,
    const char *value)
{
	struct ini_src *src = arg;
	char *v;

	(void)section;		/* the reader tracked it already */
	if (src->cur == INI_OTHER)
		return 1;
	if (src->cont) {
		if (src->cur < 0 || !prof_key_read(name))
			return 1;
		ini_fail(src, "this indented line continues %s, whose value "
		    "must be one line: indent the settings of a section alike",
		    name);
		return 0;
	}
	if (src->cur == INI_NO_SECTION) {
		/* The name is not shown: a pasted secret could be there. */
		ini_fail(src, "setting outside any section: put it under "
		    "[default] or a profile's section");
		return 0;
	}
	if (src->long_val != NULL && strcmp(value, INI_LONG) == 0)
		v = xstrndup(src->long_val, src->long_len);
	else
		v = xstrdup(value);
	prof_put(&src->set->prof[src->cur], name, v, src->file, src->line);
	return 1;
}

/* Load one file into the set; a missing file is an empty one. */
static int
ini_load(struct creds_prof_set *set, int file, struct errbuf *err)
{
	struct ini_src src;
	char *buf;
	size_t len;
	int r;

	if ((r = file_slurp(set->path[file], CREDS_FILE_MAX, &buf, &len,
	    err)) != 0)
		return r == 1 ? 0 : -1;
	memset(&src, 0, sizeof(src));
	src.set = set;
	src.file = file;
	src.buf = buf;
	src.len = len;
	src.key_indent = -1;
	src.cur = INI_NO_SECTION;
	r = ini_parse_stream(ini_read_line, &src, ini_setting, &src);
	explicit_bzero(buf, len);
	free(buf);
	if (r == -2)
		fatalx("%s: inih out of memory", __func__);
	if (r > 0 && (src.err_line == 0 || r < src.err_line))
		return err_set(err, "%s line %d: not a [section], a name = "
		    "value setting or a comment", set->path[file], r);
	if (src.err_line != 0)
		return err_set(err, "%s", src.err.msg);
	return 0;
}

int
creds_prof_load(struct creds_chain *ch, struct creds_prof_set *set,
    struct errbuf *err)
{
	int f;

	memset(set, 0, sizeof(*set));
	set->path[CREDS_PF_CREDENTIALS] = prof_path(ch,
	    "AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials");
	set->path[CREDS_PF_CONFIG] = prof_path(ch, "AWS_CONFIG_FILE",
	    ".aws/config");
	for (f = 0; f < CREDS_PF_NFILES; f++)
		if (ini_load(set, f, err) == -1)
			return -1;
	return 0;
}
