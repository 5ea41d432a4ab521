/*
 * The property model of iothreads and the main-loop object (see
 * properties.h).  Pure functions of the parameter table: any thread.
 */
#include "properties.h"
#include "cpu-affinity.h"

#include <string.h>

const AioParamInfo *iothread_param_find(const char *name, bool main_loop)
{
    const AioParamInfo *info = aio_param_find(name);

    return info && (info->main_loop || !main_loop) ? info : NULL;
}

bool iothread_property_is_text(const char *name)
{
    return strcmp(name, CPU_AFFINITY_PROPERTY) == 0;
}

unsigned iothread_param_mask(bool main_loop)
{
    unsigned mask = 0;

    for (int id = 0; id < AIO_PARAM_COUNT; id++) {
        if (aio_param_info(id)->main_loop || !main_loop) {
            mask |= AIO_PARAM_BIT(id);
        }
    }
    return mask;
}

unsigned iothread_params_diff(const AioParams *a, const AioParams *b)
{
    unsigned diff = 0;

    for (int id = 0; id < AIO_PARAM_COUNT; id++) {
        if (aio_params_get(a, id) != aio_params_get(b, id)) {
            diff |= AIO_PARAM_BIT(id);
        }
    }
    return diff;
}
