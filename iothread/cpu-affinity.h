/*
 * CPU affinity lists: the text form of the iothread property
 * `cpu-affinity` ("0-3,8": CPU numbers and inclusive ranges separated by
 * commas; "" means "inherit": the daemon's own set) and its check against
 * the CPUs the daemon may run on.
 *
 * Why a property of the iothread and not an entry of libaioctx's parameter
 * table: the table holds the loop's integer tunables of a context, which a
 * program embedding libaioctx sets on a context it drives from any thread;
 * an affinity belongs to the thread that runs the loop (and the pool
 * workers it owns), which only the IOThread has.
 *
 * Thread rules: pure functions, callable from any thread.
 * cpu_affinity_allowed() reads the calling thread's affinity, so the
 * daemon calls it from its main thread, whose affinity it never changes.
 */
#ifndef IOTHREAD_CPU_AFFINITY_H
#define IOTHREAD_CPU_AFFINITY_H

#include <glib.h>
#include <sched.h>
#include <stdbool.h>

G_BEGIN_DECLS

/* The property's name, in every layer. */
#define CPU_AFFINITY_PROPERTY "cpu-affinity"

/* Parse @text strictly: numbers in decimal without signs or blanks,
 * "A-B" with A <= B, no empty element, every CPU below CPU_SETSIZE.
 * "" gives an empty set (inherit).  false + @error naming the problem
 * ("cpu-affinity: '3-1' is a decreasing range") on anything else. */
bool cpu_affinity_parse(const char *text, cpu_set_t *out, GError **error);

/* The canonical text of @set: ascending, runs as ranges ("0-3,8");
 * "" for an empty set.  Caller frees. */
char *cpu_affinity_format(const cpu_set_t *set);

/* The CPUs this thread may run on (sched_getaffinity). */
void cpu_affinity_allowed(cpu_set_t *out);

/* Parse @text and check it against @allowed (NULL: the calling thread's
 * set, cpu_affinity_allowed): false + @error naming the CPUs outside it
 * ("cpu-affinity: CPU 9 is not in the daemon's allowed set 0-1").  On success *@canonical (may be NULL) gets the canonical text
 * and *@set (may be NULL) the set (empty: inherit). */
bool cpu_affinity_check(const char *text, const cpu_set_t *allowed,
                        char **canonical, cpu_set_t *set, GError **error);

G_END_DECLS

#endif /* IOTHREAD_CPU_AFFINITY_H */
