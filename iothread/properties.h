/*
 * The property model: which of libaioctx's tunables an object has and how
 * two complete sets differ.  Apart from iothread.h (the thread) so the
 * model reads on its own; pure functions of the parameter table, callable
 * from any thread.
 */
#ifndef IOTHREAD_PROPERTIES_H
#define IOTHREAD_PROPERTIES_H

#include <stdbool.h>

#include "aioctx/aio.h"

/*
 * Properties: the tunables of aio.h's parameter table, under the
 * table's names; an iothread has them all, the main-loop object those the
 * table marks main_loop.  Values are AioParams (a partial set = a change).
 */

/* The table entry of property @name on an iothread (@main_loop false) or
 * the main-loop object, or NULL if that object has no such property. */
const AioParamInfo *iothread_param_find(const char *name, bool main_loop);
/* Whether iothread property @name holds text (cpu-affinity, see
 * cpu-affinity.h) rather than an integer of the table: how a front end
 * that reads values as words (HMP) types them. */
bool iothread_property_is_text(const char *name);
/* The AioParams mask of every property of that object. */
unsigned iothread_param_mask(bool main_loop);
/* The members whose value differs between @a and @b (both complete). */
unsigned iothread_params_diff(const AioParams *a, const AioParams *b);

#endif /* IOTHREAD_PROPERTIES_H */
