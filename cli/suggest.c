/*
 * Nearest-name suggestions (see suggest.h).
 */
#include "suggest.h"

#include <string.h>

guint suggest_edit_distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    /* Three rows of the DP matrix suffice for the adjacent-swap rule. */
    guint *prev2 = g_new0(guint, m + 1);
    guint *prev = g_new0(guint, m + 1);
    guint *cur = g_new0(guint, m + 1);

    for (size_t j = 0; j <= m; j++) {
        prev[j] = j;
    }
    for (size_t i = 1; i <= n; i++) {
        cur[0] = i;
        for (size_t j = 1; j <= m; j++) {
            guint cost = a[i - 1] != b[j - 1];
            guint best = MIN(prev[j] + 1, cur[j - 1] + 1);
            best = MIN(best, prev[j - 1] + cost);
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
                a[i - 2] == b[j - 1]) {
                best = MIN(best, prev2[j - 2] + 1);
            }
            cur[j] = best;
        }
        guint *tmp = prev2;
        prev2 = prev;
        prev = cur;
        cur = tmp;
    }
    guint d = prev[m];
    g_free(prev2);
    g_free(prev);
    g_free(cur);
    return d;
}

const char *suggest_nearest(const char *word, const char *const *candidates)
{
    size_t len = strlen(word);
    guint limit = MAX(2, (guint)(len / 3));
    const char *best = NULL;
    guint best_d = G_MAXUINT;

    for (guint i = 0; candidates && candidates[i]; i++) {
        const char *c = candidates[i];
        guint d = suggest_edit_distance(word, c);
        if (len >= 3 && g_str_has_prefix(c, word)) {
            /* A prefix is a strong hint even if the rest is long. */
            d = MIN(d, 1);
        }
        if (d <= limit && d < best_d) {
            best = c;
            best_d = d;
        }
    }
    return best;
}
