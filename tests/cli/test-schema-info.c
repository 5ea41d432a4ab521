/*
 * Unit tests of the query-qmp-schema index (cli/schema-info.c) on a canned
 * answer in QEMU's SchemaInfo shape.
 */
#include "tap.h"
#include "schema-info.h"

#include <string.h>

static const char *canned =
    "["
    "{\"name\":\"query-iothreads\",\"meta-type\":\"command\","
    " \"arg-type\":\"0\",\"ret-type\":\"[IOThreadInfo]\","
    " \"doc\":\"Every iothread.\"},"
    "{\"name\":\"0\",\"meta-type\":\"object\",\"members\":[]},"
    "{\"name\":\"object-add\",\"meta-type\":\"command\","
    " \"arg-type\":\"ObjectOptions\",\"ret-type\":\"0\"},"
    "{\"name\":\"ObjectOptions\",\"meta-type\":\"object\","
    " \"members\":[{\"name\":\"qom-type\",\"type\":\"ObjectType\"},"
    "              {\"name\":\"id\",\"type\":\"str\",\"doc\":\"The id.\"}],"
    " \"tag\":\"qom-type\","
    " \"variants\":[{\"case\":\"iothread\",\"type\":\"IothreadProperties\"},"
    "               {\"case\":\"secret\",\"type\":\"SecretProperties\"}]},"
    "{\"name\":\"SecretProperties\",\"meta-type\":\"object\","
    " \"members\":[{\"name\":\"data\",\"type\":\"str\"}]},"
    "{\"name\":\"IOThreadInfo\",\"meta-type\":\"object\","
    " \"members\":[{\"name\":\"thread-id\",\"type\":\"int\"}]},"
    "{\"name\":\"[IOThreadInfo]\",\"meta-type\":\"array\","
    " \"element-type\":\"IOThreadInfo\"},"
    "{\"name\":\"LongEnum\",\"meta-type\":\"enum\",\"values\":"
    " [\"authz-list\",\"authz-listfile\",\"authz-pam\",\"authz-simple\","
    "  \"can-host-socketcan\"]},"
    "{\"name\":\"IothreadProperties\",\"meta-type\":\"object\","
    " \"members\":[{\"name\":\"poll-max-ns\",\"type\":\"int\",\"default\":null},"
    "              {\"name\":\"id\",\"type\":\"int\"}]},"
    "{\"name\":\"ObjectType\",\"meta-type\":\"enum\","
    " \"members\":[{\"name\":\"iothread\"}],\"values\":[\"iothread\"]},"
    "{\"name\":\"OldEnum\",\"meta-type\":\"enum\",\"values\":[\"a\",\"b\"]},"
    "{\"name\":\"int\",\"meta-type\":\"builtin\",\"json-type\":\"int\"},"
    "{\"name\":\"str\",\"meta-type\":\"builtin\",\"json-type\":\"string\"},"
    "{\"name\":\"[int]\",\"meta-type\":\"array\",\"element-type\":\"int\"},"
    "{\"name\":\"Loop\",\"meta-type\":\"object\",\"members\":[],"
    " \"variants\":[{\"case\":\"x\",\"type\":\"Loop\"}]},"
    "{\"name\":\"loopy\",\"meta-type\":\"command\",\"arg-type\":\"Loop\"},"
    "42, {\"meta-type\":\"command\"},"
    "{\"name\":\"OBJECT_ADDED\",\"meta-type\":\"event\",\"arg-type\":\"0\"}"
    "]";

static void test_union_base_and_tag(SchemaInfo *si)
{
    GPtrArray *base = schema_info_base_arguments(si, "object-add");
    const char *const *cases = schema_info_union_cases(si, "object-add");

    ok(base->len == 2 &&
       !strcmp(((SchemaMember *)base->pdata[0])->name, "qom-type") &&
       !strcmp(((SchemaMember *)base->pdata[1])->name, "id"),
       "base arguments: the union's own members, no variant's");
    ok(!g_strcmp0(schema_info_union_tag(si, "object-add"), "qom-type") &&
       schema_info_union_tag(si, "query-iothreads") == NULL,
       "the union's tag; none for a plain command");
    ok(g_strv_length((char **)cases) == 2 && !strcmp(cases[0], "iothread") &&
       !strcmp(cases[1], "secret"), "tag values in schema order");
}

static void test_union_variant_members(SchemaInfo *si)
{
    GPtrArray *io = schema_info_variant_arguments(si, "object-add",
                                                  "iothread");
    GPtrArray *secret = schema_info_variant_arguments(si, "object-add",
                                                      "secret");

    ok(io && io->len == 2 && ((SchemaMember *)io->pdata[0])->optional,
       "a variant's members, each with its own optional flag");
    ok(secret && secret->len == 1 &&
       !strcmp(((SchemaMember *)secret->pdata[0])->name, "data") &&
       !((SchemaMember *)secret->pdata[0])->optional,
       "a member required in its variant only");
    ok(schema_info_variant_arguments(si, "object-add", "nosuch") == NULL &&
       schema_info_variant_arguments(si, "query-iothreads", "x") == NULL,
       "no variant for an unknown value or a plain command");
}

static void test_return_members(SchemaInfo *si)
{
    GPtrArray *ret = schema_info_return_members(si, "query-iothreads");
    GPtrArray *none = schema_info_return_members(si, "object-add");

    ok(ret->len == 1 && !strcmp(((SchemaMember *)ret->pdata[0])->name,
                                "thread-id"),
       "the members of the elements a command returns");
    is_int(none->len, 0, "no members when it returns no object");
    g_ptr_array_unref(ret);
    g_ptr_array_unref(none);
}

static void test_long_enum_is_counted(SchemaInfo *si)
{
    char *d = schema_info_describe_type(si, "LongEnum");

    ok(!strcmp(d, "one of 5 values"),
       "an enum whose list would be long is described by its count: %s", d);
    g_free(d);
}

/* Commands sorted (events and types left out), has_command, command docs. */
static void test_commands_and_docs(SchemaInfo *si)
{
    const char *const *cmds = schema_info_commands(si);
    ok(g_strv_length((char **)cmds) == 3 && !strcmp(cmds[0], "loopy") &&
       !strcmp(cmds[1], "object-add") && !strcmp(cmds[2], "query-iothreads"),
       "commands sorted, events and types left out");
    ok(schema_info_has_command(si, "object-add") &&
       !schema_info_has_command(si, "ObjectType") &&
       !schema_info_has_command(si, "OBJECT_ADDED"), "has_command");
    ok(!g_strcmp0(schema_info_doc(si, "query-iothreads"), "Every iothread."),
       "doc member read");
    ok(schema_info_doc(si, "object-add") == NULL, "no doc -> NULL");
}

/* A command's arguments: base members, then every variant's, duplicates dropped; none for a no-argument or unknown command; self-referencing variants terminate. */
static void test_command_arguments(SchemaInfo *si)
{
    GPtrArray *args = schema_info_arguments(si, "object-add");
    is_int(args->len, 4, "object-add: base members + every variant's "
           "members, duplicates dropped");
    SchemaMember *m0 = args->pdata[0], *m1 = args->pdata[1],
                 *m2 = args->pdata[2];
    ok(!strcmp(m0->name, "qom-type") && !strcmp(m0->type, "ObjectType") &&
       !m0->optional, "qom-type member");
    ok(!strcmp(m1->name, "id") && !strcmp(m1->type, "str") &&
       !g_strcmp0(m1->doc, "The id."), "id member keeps the base's type/doc");
    ok(!strcmp(m2->name, "poll-max-ns") && m2->optional,
       "variant member optional (default present)");
    is_int(schema_info_arguments(si, "query-iothreads")->len, 0,
           "no-argument command");
    is_int(schema_info_arguments(si, "nonexistent")->len, 0,
           "unknown command -> empty");
    is_int(schema_info_arguments(si, "loopy")->len, 0,
           "self-referencing variants terminate");
}

/* Enum values from members or from 'values'; a builtin is not an enum. */
static void test_enum_values(SchemaInfo *si)
{
    const char *const *vals = schema_info_enum_values(si, "ObjectType");
    ok(vals && g_strv_length((char **)vals) == 1 &&
       !strcmp(vals[0], "iothread"), "enum values from members");
    vals = schema_info_enum_values(si, "OldEnum");
    ok(vals && g_strv_length((char **)vals) == 2, "enum values from 'values'");
    ok(schema_info_enum_values(si, "int") == NULL, "builtin is not an enum");
}

/* Type descriptions, member docs by type and name, a command's return type. */
static void test_type_descriptions_member_docs_ret_type(SchemaInfo *si)
{
    char *d = schema_info_describe_type(si, "str");
    ok(!strcmp(d, "string"), "describe builtin: %s", d);
    g_free(d);
    d = schema_info_describe_type(si, "ObjectType");
    ok(!strcmp(d, "one of: iothread"), "describe enum: %s", d);
    g_free(d);
    d = schema_info_describe_type(si, "[int]");
    ok(!strcmp(d, "array of int"), "describe array: %s", d);
    g_free(d);
    ok(!g_strcmp0(schema_info_member_doc(si, "ObjectOptions", "id"),
                  "The id.") &&
       schema_info_member_doc(si, "ObjectOptions", "qom-type") == NULL &&
       schema_info_member_doc(si, "nosuch", "id") == NULL,
       "member docs by type and name");
    ok(!g_strcmp0(schema_info_ret_type(si, "query-iothreads"),
                  "[IOThreadInfo]"), "ret-type");
}

/* A schema that is not an array is refused with an error. */
static void test_non_array_schema_refused(void)
{
    GError *err = NULL;
    JsonNode *notarray = json_node_new(JSON_NODE_OBJECT);

    json_node_take_object(notarray, json_object_new());
    ok(schema_info_new(notarray, &err) == NULL && err, "non-array refused");
    g_clear_error(&err);
    json_node_unref(notarray);
}

int main(void)
{
    JsonParser *p = json_parser_new();
    GError *err = NULL;

    ok(json_parser_load_from_data(p, canned, -1, &err), "canned JSON parses");
    SchemaInfo *si = schema_info_new(json_parser_get_root(p), &err);
    g_object_unref(p);
    if (!ok(si != NULL, "index built")) {
        return done_testing();
    }
    test_commands_and_docs(si);
    test_command_arguments(si);
    test_enum_values(si);
    test_type_descriptions_member_docs_ret_type(si);
    test_union_base_and_tag(si);
    test_union_variant_members(si);
    test_return_members(si);
    test_long_enum_is_counted(si);
    schema_info_free(si);
    test_non_array_schema_refused();
    return done_testing();
}
