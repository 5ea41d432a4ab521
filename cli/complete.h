/*
 * Tab completion for the readline prompt: command names (human ones and
 * the daemon's, from query-qmp-schema), subcommands, argument names
 * ("name="), enum values, booleans, live iothread ids and iothread
 * property names.
 *
 * Thread rules: single-threaded (readline's thread).
 */
#ifndef CLI_COMPLETE_H
#define CLI_COMPLETE_H

#include "session.h"

G_BEGIN_DECLS

/* The completions of the word @word when the line before it is @before:
 * a NULL-terminated vector of whole replacements for @word, each starting
 * with @word (caller frees with g_strfreev).  Uses the session's schema
 * and id cache; never prints. */
char **complete_candidates(Session *s, const char *before, const char *word);

/* Install the completion hooks into readline for @s (which must outlive
 * readline's use). */
void complete_install(Session *s);

G_END_DECLS

#endif /* CLI_COMPLETE_H */
