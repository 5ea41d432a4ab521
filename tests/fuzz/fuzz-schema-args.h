/*
 * Schema-shaped wrong arguments: reads schema/qmp-schema.json (the source,
 * so declared int ranges are known) and, for every command, builds a valid
 * argument object and then variants that are each wrong in exactly one
 * member: a wrong JSON type, a nested object where an int is expected, an
 * int just outside its range or at an int64 edge, an unknown enum value,
 * an unknown member, a missing required member.
 *
 * Thread rules: none (pure, single call).
 */
#ifndef TESTS_FUZZ_SCHEMA_ARGS_H
#define TESTS_FUZZ_SCHEMA_ARGS_H

#include <glib.h>

/* One wrong case: @args_json is a JSON object text, @member the member the
 * server's error must name. */
typedef void FuzzArgsCase(void *opaque, const char *command,
                          const char *args_json, const char *member);

/* Calls @cb for every case of every command.  Returns the number of
 * commands, or -1 + @error if the schema cannot be read. */
int fuzz_schema_wrong_args(const char *schema_path, FuzzArgsCase *cb,
                           void *opaque, GError **error);

#endif /* TESTS_FUZZ_SCHEMA_ARGS_H */
