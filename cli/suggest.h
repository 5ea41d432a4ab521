/*
 * "Did you mean ...?" for unknown command names: edit distance and the
 * nearest candidate.  Pure (no I/O).
 *
 * Thread rules: none (no shared state).
 */
#ifndef CLI_SUGGEST_H
#define CLI_SUGGEST_H

#include <glib.h>

G_BEGIN_DECLS

/* Damerau-Levenshtein distance (insert, delete, substitute, swap of two
 * adjacent characters each cost 1), byte-wise. */
guint suggest_edit_distance(const char *a, const char *b);

/* The candidate nearest to @word (NULL-terminated @candidates), or NULL if
 * none is plausibly meant: a candidate is close enough when its distance is
 * at most max(2, strlen(word) / 3), or when @word is a prefix of it of at
 * least 3 characters.  Ties go to the first candidate.  Returns a pointer
 * into @candidates. */
const char *suggest_nearest(const char *word, const char *const *candidates);

G_END_DECLS

#endif /* CLI_SUGGEST_H */
