/*
 * config-help derives text from the rows: the check-config dump of the
 * values in effect and where each came from, and the variable reference
 * as --help text or as the README's Markdown table.
 */
#include <stdio.h>
#include <stdlib.h>

#include "config.h"
#include "config-internal.h"
#include "xmalloc.h"

void
config_dump(const struct config *cfg, FILE *fp)
{
	const struct config_row *row;
	const struct config_entry *e;
	size_t i;

	for (i = 0; i < config_nrows; i++) {
		row = &config_rows[i];
		if (row->type == CONFIG_TYPE_DOC)
			continue;
		e = &cfg->entries[i];
		fprintf(fp, "%s=%s (source: %s)\n", row->name, e->shown,
		    e->source == CONFIG_SOURCE_ENV ? "environment" :
		    e->source == CONFIG_SOURCE_FALLBACK ? row->fallback :
		    "default");
	}
}

/* Help: the same rows as text for --help, or a Markdown table. */

static char *
row_default_help(const struct config_row *row, int markdown)
{
	if (row->def_help != NULL)
		return xstrdup(row->def_help);
	if (row->def == NULL)
		return xstrdup("unset");
	if (row->def[0] == '\0')
		return xstrdup(markdown ? "`\"\"`" : "\"\"");
	return markdown ? xprintf("`%s`", row->def) : xstrdup(row->def);
}

/* A table cell: pipes would end the cell, angle brackets start HTML. */
static void
md_cell(FILE *fp, const char *s, int code)
{
	fputs(" ", fp);
	for (; *s != '\0'; s++) {
		if (*s == '|')
			fputs("\\|", fp);
		else if (*s == '<' && !code)
			fputs("&lt;", fp);
		else if (*s == '>' && !code)
			fputs("&gt;", fp);
		else
			fputc(*s, fp);
	}
	fputs(" |", fp);
}

static void
help_row(FILE *fp, const struct config_row *row, enum config_help_format fmt)
{
	char *def, *form, *name;
	int md = fmt == CONFIG_HELP_MARKDOWN;

	def = row_default_help(row, md);
	form = config_row_form(row);
	if (md) {
		name = xprintf("`%s`", row->name);
		fputs("|", fp);
		md_cell(fp, name, 1);
		md_cell(fp, def, row->def_help == NULL);
		md_cell(fp, form, 0);
		md_cell(fp, row->help, 0);
		fputs("\n", fp);
		free(name);
	} else
		fprintf(fp, "  %s\n      %s\n      Default: %s\n"
		    "      Allowed: %s\n", row->name, row->help, def, form);
	free(form);
	free(def);
}

void
config_help(FILE *fp, enum config_help_format fmt)
{
	size_t i;

	if (fmt == CONFIG_HELP_MARKDOWN)
		fputs("| Variable | Default | Allowed | Meaning |\n"
		    "| --- | --- | --- | --- |\n", fp);
	for (i = 0; i < config_nrows; i++)
		help_row(fp, &config_rows[i], fmt);
}

void
config_report_stderr(void *arg, enum config_severity severity,
    const char *line)
{
	int *nerrors = arg;

	if (severity == CONFIG_WARNING) {
		fprintf(stderr, "warning: %s\n", line);
		return;
	}
	fprintf(stderr, "%s\n", line);
	(*nerrors)++;
}
