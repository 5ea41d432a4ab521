/*
 * CPU affinity lists (see cpu-affinity.h).
 */
#include "cpu-affinity.h"

#include <string.h>

#include "aioctx/aio.h"

/* "cpu-affinity: '<element>' <problem>", the element escaped. */
static bool fail(GError **error, const char *element, const char *problem)
{
    g_autofree char *shown = g_strescape(element, NULL);
    g_set_error(error, AIO_ERROR, AIO_ERROR_INVALID,
                CPU_AFFINITY_PROPERTY ": '%s' %s", shown, problem);
    return false;
}

/* One CPU number: decimal digits only, below CPU_SETSIZE. */
static bool parse_cpu(const char *text, int *out)
{
    guint64 v;

    if (!*text || !g_ascii_isdigit(*text) ||
        !g_ascii_string_to_unsigned(text, 10, 0, CPU_SETSIZE - 1, &v, NULL)) {
        return false;
    }
    *out = (int)v;
    return true;
}

/* One element of the list: "N" or "A-B". */
static bool parse_element(const char *element, cpu_set_t *out,
                          GError **error)
{
    g_autofree char *copy = g_strdup(element);
    char *dash = strchr(copy, '-');
    int first, last;

    if (dash) {
        *dash = '\0';
    }
    if (!parse_cpu(copy, &first) || (dash && !parse_cpu(dash + 1, &last))) {
        g_autofree char *problem = g_strdup_printf(
            "is not a CPU number or a range A-B of CPUs 0 to %d",
            CPU_SETSIZE - 1);
        return fail(error, element, problem);
    }
    if (!dash) {
        last = first;
    } else if (last < first) {
        return fail(error, element, "is a decreasing range");
    }
    for (int cpu = first; cpu <= last; cpu++) {
        CPU_SET(cpu, out);
    }
    return true;
}

bool cpu_affinity_parse(const char *text, cpu_set_t *out, GError **error)
{
    CPU_ZERO(out);
    if (!*text) {
        return true;
    }
    g_auto(GStrv) elements = g_strsplit(text, ",", -1);
    for (int i = 0; elements[i]; i++) {
        if (!*elements[i]) {
            return fail(error, text, "has an empty element");
        }
        if (!parse_element(elements[i], out, error)) {
            return false;
        }
    }
    return true;
}

char *cpu_affinity_format(const cpu_set_t *set)
{
    GString *s = g_string_new(NULL);

    for (int cpu = 0; cpu < CPU_SETSIZE; cpu++) {
        if (!CPU_ISSET(cpu, set)) {
            continue;
        }
        int last = cpu;
        while (last + 1 < CPU_SETSIZE && CPU_ISSET(last + 1, set)) {
            last++;
        }
        g_string_append_printf(s, "%s%d", s->len ? "," : "", cpu);
        if (last > cpu) {
            g_string_append_printf(s, "-%d", last);
        }
        cpu = last;
    }
    return g_string_free(s, FALSE);
}

void cpu_affinity_allowed(cpu_set_t *out)
{
    if (sched_getaffinity(0, sizeof(*out), out) < 0) {
        /* Cannot happen for the calling thread; assume CPU 0 alone rather
         * than accept CPUs the kernel would refuse. */
        CPU_ZERO(out);
        CPU_SET(0, out);
    }
}

bool cpu_affinity_check(const char *text, const cpu_set_t *allowed,
                        char **canonical, cpu_set_t *set, GError **error)
{
    cpu_set_t wanted, outside, own;

    if (!cpu_affinity_parse(text, &wanted, error)) {
        return false;
    }
    if (!allowed) {
        cpu_affinity_allowed(&own);
        allowed = &own;
    }
    CPU_AND(&outside, &wanted, allowed);
    CPU_XOR(&outside, &outside, &wanted);
    if (CPU_COUNT(&outside) > 0) {
        g_autofree char *bad = cpu_affinity_format(&outside);
        g_autofree char *ok = cpu_affinity_format(allowed);
        g_set_error(error, AIO_ERROR, AIO_ERROR_INVALID,
                    CPU_AFFINITY_PROPERTY ": CPU %s %s not in the daemon's "
                    "allowed set %s", bad,
                    CPU_COUNT(&outside) > 1 ? "are" : "is", ok);
        return false;
    }
    if (canonical) {
        *canonical = cpu_affinity_format(&wanted);
    }
    if (set) {
        *set = wanted;
    }
    return true;
}
