/*
 * Unit tests of the nearest-name suggestion (cli/suggest.c).
 */
#include "tap.h"
#include "suggest.h"

#include <string.h>

/* Edit distance: insertions, deletions, substitutions, and an adjacent
 * swap costs one. */
static void test_edit_distance(void)
{
    is_int(suggest_edit_distance("", ""), 0, "empty strings");
    is_int(suggest_edit_distance("abc", ""), 3, "deletions");
    is_int(suggest_edit_distance("kitten", "sitting"), 3, "kitten/sitting");
    is_int(suggest_edit_distance("qurey", "query"), 1,
           "adjacent swap costs one");
}

/* The nearest command within the limit is suggested, none when nothing is
 * close, and an exact match wins. */
static void test_nearest_suggestion(void)
{
    const char *cmds[] = { "query-iothreads", "query-iothread-stats",
                           "object-add", "object-del", "qom-get", "qom-set",
                           "info", "stats", "top", NULL };

    const char *s = suggest_nearest("qurey-iothreads", cmds);
    ok(s && !strcmp(s, "query-iothreads"), "swap typo -> query-iothreads");
    s = suggest_nearest("object-ad", cmds);
    ok(s && !strcmp(s, "object-add"), "missing letter -> object-add");
    s = suggest_nearest("qom-sat", cmds);
    ok(s && !strcmp(s, "qom-set"), "substitution -> qom-set");
    s = suggest_nearest("stat", cmds);
    ok(s && !strcmp(s, "stats"), "prefix -> stats");
    s = suggest_nearest("query-iothread-st", cmds);
    ok(s && !strcmp(s, "query-iothread-stats"), "long prefix -> stats query");
    ok(suggest_nearest("frobnicate", cmds) == NULL, "nothing close -> NULL");
    ok(suggest_nearest("x", cmds) == NULL, "one letter -> NULL");
    ok(suggest_nearest("abc", NULL) == NULL, "no candidates -> NULL");
    s = suggest_nearest("info", cmds);
    ok(s && !strcmp(s, "info"), "exact match wins");
}

int main(void)
{
    test_edit_distance();
    test_nearest_suggestion();
    return done_testing();
}
