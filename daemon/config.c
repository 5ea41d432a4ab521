/*
 * The daemon's config file (see config.h): a position index of the text
 * (so every error names its line and column), the checks, the state as a
 * config, the atomic write.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "commands.h"
#include "cpu-affinity.h"
#include "json-check.h"
#include "server.h"

#define CONFIG_ERROR (config_error_quark())
static G_DEFINE_QUARK(daemon-config-error-quark, config_error)

/* ---------------------------------------------------------------------- */
/* Positions: where each member and element starts in the text            */

/* Paths name a place: "" the root, "objects[1]" an element, "objects[1].id"
 * a member (its name in the text).  The text passed json_check, so the
 * walk needs no error handling. */
typedef struct Positions {
    const char *text;
    size_t pos;
    GHashTable *at;         /* path -> offset + 1 */
    char *duplicate;        /* the first repeated member's path, or NULL */
} Positions;

static void skip_blanks(Positions *p)
{
    while (p->text[p->pos] && strchr(" \t\r\n", p->text[p->pos])) {
        p->pos++;
    }
}

/* Past the string at p->pos; returns its decoded value. */
static char *read_string(Positions *p)
{
    size_t start = p->pos++;

    while (p->text[p->pos] != '"') {
        p->pos += p->text[p->pos] == '\\' ? 2 : 1;
    }
    p->pos++;
    g_autofree char *quoted = g_strndup(p->text + start, p->pos - start);
    g_autoptr(JsonNode) node = json_from_string(quoted, NULL);
    return g_strdup(json_node_get_string(node));
}

static void record(Positions *p, const char *path, size_t offset)
{
    if (g_hash_table_contains(p->at, path)) {
        if (!p->duplicate) {
            p->duplicate = g_strdup(path);
            /* Report the repeat, not the first. */
            g_hash_table_insert(p->at, g_strdup(path),
                                GSIZE_TO_POINTER(offset + 1));
        }
        return;
    }
    g_hash_table_insert(p->at, g_strdup(path), GSIZE_TO_POINTER(offset + 1));
}

static void walk_value(Positions *p, const char *path);

static void walk_object(Positions *p, const char *path)
{
    p->pos++;                                   /* '{' */
    for (skip_blanks(p); p->text[p->pos] != '}'; skip_blanks(p)) {
        if (p->text[p->pos] == ',') {
            p->pos++;
            skip_blanks(p);
        }
        size_t key_at = p->pos;
        g_autofree char *name = read_string(p);
        g_autofree char *member = *path ? g_strdup_printf("%s.%s", path, name)
                                        : g_strdup(name);
        record(p, member, key_at);
        skip_blanks(p);
        p->pos++;                               /* ':' */
        skip_blanks(p);
        walk_value(p, member);
    }
    p->pos++;
}

static void walk_array(Positions *p, const char *path)
{
    p->pos++;                                   /* '[' */
    for (unsigned i = 0; skip_blanks(p), p->text[p->pos] != ']'; i++) {
        if (p->text[p->pos] == ',') {
            p->pos++;
            skip_blanks(p);
        }
        g_autofree char *element = g_strdup_printf("%s[%u]", path, i);
        record(p, element, p->pos);
        walk_value(p, element);
    }
    p->pos++;
}

static void walk_value(Positions *p, const char *path)
{
    switch (p->text[p->pos]) {
    case '{':
        walk_object(p, path);
        break;
    case '[':
        walk_array(p, path);
        break;
    case '"':
        g_free(read_string(p));
        break;
    default:                                    /* number or literal */
        while (p->text[p->pos] && !strchr(",]} \t\r\n", p->text[p->pos])) {
            p->pos++;
        }
    }
}

/* "FILE:LINE:COL: " of byte @offset of @text. */
static char *where(const char *file, const char *text, size_t offset)
{
    unsigned line = 1;
    const char *line_start = text;

    for (const char *c = text; c < text + offset; c++) {
        if (*c == '\n') {
            line++;
            line_start = c + 1;
        }
    }
    glong col = g_utf8_strlen(line_start, text + offset - line_start) + 1;
    return g_strdup_printf("%s:%u:%ld: ", file, line, col);
}

/* ---------------------------------------------------------------------- */
/* Checks                                                                  */

typedef struct Loader {
    const char *file;
    const char *text;
    Positions positions;
    const QmpSchema *schema;
    GError **error;
} Loader;

/* Fail at @path (its position; the root's if it has none). */
static bool fail_at(Loader *l, const char *path, const char *fmt, ...)
    G_GNUC_PRINTF(3, 4);
static bool fail_at(Loader *l, const char *path, const char *fmt, ...)
{
    gpointer at = g_hash_table_lookup(l->positions.at, path);
    size_t offset = at ? GPOINTER_TO_SIZE(at) - 1 : 0;
    g_autofree char *prefix = where(l->file, l->text, offset);
    va_list ap;

    va_start(ap, fmt);
    g_autofree char *message = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error(l->error, CONFIG_ERROR, 0, "%s%s", prefix, message);
    return false;
}

/* Whether @message names @name as a word (not inside a longer name). */
static bool names_member(const char *message, const char *name)
{
    size_t len = strlen(name);

    for (const char *m = strstr(message, name); m; m = strstr(m + 1, name)) {
        bool before = m == message || !(g_ascii_isalnum(m[-1]) ||
                                         m[-1] == '-' || m[-1] == '_');
        bool after = !(g_ascii_isalnum(m[len]) || m[len] == '-' ||
                       m[len] == '_');
        if (before && after) {
            return true;
        }
    }
    return false;
}

/* Fail with @cause at the member of @obj (at @path) it names, else at the
 * object itself. */
static bool fail_in_object(Loader *l, const char *path, JsonObject *obj,
                           GError *cause)
{
    g_autoptr(GList) names = json_object_get_members(obj);
    const char *at = path;
    g_autofree char *member = NULL;

    for (GList *n = names; n; n = n->next) {
        if (names_member(cause->message, n->data)) {
            member = g_strdup_printf("%s.%s", path, (const char *)n->data);
            at = member;
            break;
        }
    }
    fail_at(l, at, "%s: %s", path, cause->message);
    g_error_free(cause);
    return false;
}

static bool check_qmp(Loader *l, JsonNode *node, DaemonConfig *config)
{
    if (!JSON_NODE_HOLDS_ARRAY(node)) {
        return fail_at(l, "qmp", "'qmp' must be an array of addresses");
    }
    JsonArray *arr = json_node_get_array(node);
    guint n = json_array_get_length(arr);
    config->qmp = g_new0(char *, n + 1);
    for (guint i = 0; i < n; i++) {
        JsonNode *e = json_array_get_element(arr, i);
        g_autofree char *path = g_strdup_printf("qmp[%u]", i);
        GError *cause = NULL;
        QmpAddress a;
        if (json_node_get_value_type(e) != G_TYPE_STRING) {
            return fail_at(l, path, "an address must be a string");
        }
        if (!qmp_address_parse(json_node_get_string(e), &a, &cause)) {
            fail_at(l, path, "%s", cause->message);
            g_error_free(cause);
            return false;
        }
        qmp_address_clear(&a);
        config->qmp[i] = g_strdup(json_node_get_string(e));
    }
    return true;
}

static bool check_pidfile(Loader *l, JsonNode *node, DaemonConfig *config)
{
    if (json_node_get_value_type(node) != G_TYPE_STRING ||
        !*json_node_get_string(node)) {
        return fail_at(l, "pidfile", "'pidfile' must be a file name");
    }
    config->pidfile = g_strdup(json_node_get_string(node));
    return true;
}

/* objects[@i]: object-add's arguments, its id unique in @ids. */
static bool check_object(Loader *l, JsonNode *node, guint i, GHashTable *ids)
{
    g_autofree char *path = g_strdup_printf("objects[%u]", i);
    GError *cause = NULL;

    if (!JSON_NODE_HOLDS_OBJECT(node)) {
        return fail_at(l, path, "an object must be a JSON object with "
                       "object-add's arguments");
    }
    JsonObject *obj = json_node_get_object(node);
    if (!daemon_commands_check_object_add(l->schema, obj, &cause)) {
        return fail_in_object(l, path, obj, cause);
    }
    const char *id = json_object_get_string_member(obj, "id");
    if (!g_hash_table_add(ids, (gpointer)id)) {
        g_autofree char *id_path = g_strdup_printf("%s.id", path);
        return fail_at(l, id_path, "duplicate id '%s'", id);
    }
    return true;
}

static bool check_objects(Loader *l, JsonNode *node, DaemonConfig *config)
{
    g_autoptr(GHashTable) ids = g_hash_table_new(g_str_hash, g_str_equal);

    if (!JSON_NODE_HOLDS_ARRAY(node)) {
        return fail_at(l, "objects", "'objects' must be an array");
    }
    JsonArray *arr = json_node_get_array(node);
    for (guint i = 0; i < json_array_get_length(arr); i++) {
        if (!check_object(l, json_array_get_element(arr, i), i, ids)) {
            return false;
        }
    }
    config->objects = json_array_ref(arr);
    return true;
}

static bool check_main_loop(Loader *l, JsonNode *node, DaemonConfig *config)
{
    GError *cause = NULL;

    if (!JSON_NODE_HOLDS_OBJECT(node)) {
        return fail_at(l, "main-loop", "'main-loop' must be an object");
    }
    JsonObject *given = json_node_get_object(node);
    if (json_object_has_member(given, "id")) {
        return fail_at(l, "main-loop.id", "'main-loop' has no member 'id'");
    }
    g_autoptr(JsonObject) args = json_object_new();
    g_autoptr(GList) names = json_object_get_members(given);
    for (GList *n = names; n; n = n->next) {
        json_object_set_member(args, n->data, json_node_copy(
            json_object_get_member(given, n->data)));
    }
    json_object_set_string_member(args, "id", "main-loop");
    if (!daemon_commands_check_main_loop(l->schema, args, &cause)) {
        return fail_in_object(l, "main-loop", given, cause);
    }
    config->main_loop = json_object_ref(args);
    return true;
}

/* The root's members, each by its own check. */
static bool check_root(Loader *l, JsonNode *root, DaemonConfig *config)
{
    static const struct {
        const char *name;
        bool (*check)(Loader *l, JsonNode *node, DaemonConfig *config);
    } members[] = {
        { "qmp", check_qmp },
        { "pidfile", check_pidfile },
        { "objects", check_objects },
        { "main-loop", check_main_loop },
    };

    if (!JSON_NODE_HOLDS_OBJECT(root)) {
        return fail_at(l, "", "the config must be a JSON object");
    }
    JsonObject *obj = json_node_get_object(root);
    g_autoptr(GList) names = json_object_get_members(obj);
    for (GList *n = names; n; n = n->next) {
        size_t k = 0;
        while (k < G_N_ELEMENTS(members) && strcmp(members[k].name, n->data)) {
            k++;
        }
        if (k == G_N_ELEMENTS(members)) {
            return fail_at(l, n->data, "unknown member '%s' (expected qmp, "
                           "pidfile, objects, main-loop)",
                           (const char *)n->data);
        }
        if (!members[k].check(l, json_object_get_member(obj, n->data),
                              config)) {
            return false;
        }
    }
    return true;
}

/* json_check's message, "JSON parse error, WHAT at byte N", as
 * "FILE:LINE:COL: WHAT". */
static void fail_syntax(Loader *l, const char *message)
{
    const char *what = message + strlen("JSON parse error, ");
    const char *at = g_strrstr(what, " at byte ");
    size_t offset = at ? (size_t)g_ascii_strtoull(at + 9, NULL, 10) : 0;
    g_autofree char *prefix = where(l->file, l->text, offset);
    int what_len = at ? (int)(at - what) : (int)strlen(what);

    g_set_error(l->error, CONFIG_ERROR, 0, "%sJSON syntax: %.*s", prefix,
                what_len, what);
}

/* The text checked and parsed, its positions indexed. */
static JsonNode *parse(Loader *l, size_t len)
{
    char message[JSON_CHECK_ERROR_SIZE];

    if (!json_check(l->text, len, message, sizeof(message))) {
        fail_syntax(l, message);
        return NULL;
    }
    skip_blanks(&l->positions);
    walk_value(&l->positions, "");
    if (l->positions.duplicate) {
        const char *dot = strrchr(l->positions.duplicate, '.');
        fail_at(l, l->positions.duplicate, "duplicate member '%s'",
                dot ? dot + 1 : l->positions.duplicate);
        return NULL;
    }
    return json_from_string(l->text, l->error);
}

DaemonConfig *daemon_config_load(const char *path, const QmpSchema *schema,
                                 GError **error)
{
    g_autofree char *text = NULL;
    gsize len;
    GError *cause = NULL;

    if (!g_file_get_contents(path, &text, &len, &cause)) {
        g_set_error(error, CONFIG_ERROR, 0, "%s", cause->message);
        g_error_free(cause);
        return NULL;
    }
    Loader l = {
        .file = path, .text = text, .schema = schema, .error = error,
        .positions = { .text = text, .at = g_hash_table_new_full(
                           g_str_hash, g_str_equal, g_free, NULL) },
    };
    DaemonConfig *config = g_new0(DaemonConfig, 1);
    g_autoptr(JsonNode) root = parse(&l, len);
    bool ok = root && check_root(&l, root, config);
    g_hash_table_destroy(l.positions.at);
    g_free(l.positions.duplicate);
    if (!ok) {
        daemon_config_free(config);
        return NULL;
    }
    return config;
}

void daemon_config_free(DaemonConfig *config)
{
    if (!config) {
        return;
    }
    g_strfreev(config->qmp);
    g_free(config->pidfile);
    if (config->objects) {
        json_array_unref(config->objects);
    }
    if (config->main_loop) {
        json_object_unref(config->main_loop);
    }
    g_free(config);
}

/* ---------------------------------------------------------------------- */
/* Saving the state                                                        */

struct DaemonConfigSaver {
    ObjectRegistry *reg;
    char *path;                 /* config-save's default, or NULL */
    bool auto_save;
    char **qmp;                 /* the settings recorded */
    char *pidfile;
};

DaemonConfigSaver *daemon_config_saver_new(ObjectRegistry *reg,
                                           const char *path, bool auto_save,
                                           const char *const *qmp_addresses,
                                           const char *pidfile)
{
    DaemonConfigSaver *saver = g_new0(DaemonConfigSaver, 1);

    saver->reg = reg;
    saver->path = g_strdup(path);
    saver->auto_save = auto_save && path;
    saver->qmp = g_strdupv((char **)qmp_addresses);
    saver->pidfile = g_strdup(pidfile);
    return saver;
}

void daemon_config_saver_free(DaemonConfigSaver *saver)
{
    if (!saver) {
        return;
    }
    g_free(saver->path);
    g_strfreev(saver->qmp);
    g_free(saver->pidfile);
    g_free(saver);
}

/* The members of @p that are properties of the object (@main_loop). */
static void add_params(JsonObject *o, const AioParams *p, bool main_loop)
{
    unsigned mask = iothread_param_mask(main_loop);

    for (int pid = 0; pid < AIO_PARAM_COUNT; pid++) {
        if (mask & AIO_PARAM_BIT(pid)) {
            param_set_member(o, aio_param_info(pid), aio_params_get(p, pid));
        }
    }
}

/* An iothread as object-add's arguments, every property explicit. */
static JsonObject *iothread_config(IOThread *t)
{
    JsonObject *o = json_object_new();
    AioParams p;

    iothread_get_params(t, &p);
    json_object_set_string_member(o, "qom-type", REGISTRY_TYPE_IOTHREAD);
    json_object_set_string_member(o, "id", iothread_get_id(t));
    add_params(o, &p, false);
    json_object_set_string_member(o, CPU_AFFINITY_PROPERTY,
                                  iothread_get_cpu_affinity(t));
    return o;
}

/* The daemon's state in the format of config.h. */
static JsonNode *config_snapshot(DaemonConfigSaver *saver)
{
    JsonObject *root = json_object_new();
    JsonArray *objects = json_array_new();
    JsonObject *main_loop = json_object_new();
    AioParams p;
    guint n;
    IOThread *const *all = object_registry_iothreads(saver->reg, &n);

    if (saver->qmp && saver->qmp[0]) {
        JsonArray *qmp = json_array_new();
        for (char **a = saver->qmp; *a; a++) {
            json_array_add_string_element(qmp, *a);
        }
        json_object_set_array_member(root, "qmp", qmp);
    }
    if (saver->pidfile) {
        json_object_set_string_member(root, "pidfile", saver->pidfile);
    }
    for (guint i = 0; i < n; i++) {
        json_array_add_object_element(objects, iothread_config(all[i]));
    }
    json_object_set_array_member(root, "objects", objects);
    object_registry_main_loop_params(saver->reg, &p);
    add_params(main_loop, &p, true);
    json_object_set_object_member(root, "main-loop", main_loop);
    return json_node_init_object(json_node_alloc(), root);
}

bool daemon_config_save(DaemonConfigSaver *saver, const char *path,
                        GError **error)
{
    if (!path) {
        path = saver->path;
    }
    if (!path || !*path) {
        g_set_error(error, CONFIG_ERROR, 0, "config-save: no file to write: "
                    "give 'path' or start iothreadd with --config FILE");
        return false;
    }
    g_autoptr(JsonNode) root = config_snapshot(saver);
    return daemon_config_write(path, root, error);
}

void daemon_config_auto_save(DaemonConfigSaver *saver)
{
    GError *error = NULL;

    if (saver->auto_save &&
        !daemon_config_save(saver, saver->path, &error)) {
        g_warning("auto-save to %s failed: %s", saver->path, error->message);
        g_error_free(error);
    }
}

/* ---------------------------------------------------------------------- */
/* Atomic write                                                            */

static bool fail_errno(GError **error, const char *what, const char *path)
{
    int err = errno;
    g_set_error(error, CONFIG_ERROR, 0, "%s %s: %s", what, path,
                g_strerror(err));
    return false;
}

/* @len bytes of @data to @fd, then to the disk. */
static bool write_all(int fd, const char *data, size_t len,
                      const char *path, GError **error)
{
    while (len > 0) {
        ssize_t n = write(fd, data, len);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0) {
            return fail_errno(error, "write", path);
        }
        data += n;
        len -= (size_t)n;
    }
    return fsync(fd) == 0 || fail_errno(error, "fsync", path);
}

/* The rename is durable once the directory's entry is on disk. */
static bool sync_dir(const char *path, GError **error)
{
    g_autofree char *dir = g_path_get_dirname(path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    bool ok;

    if (fd < 0) {
        return fail_errno(error, "open", dir);
    }
    ok = fsync(fd) == 0 || fail_errno(error, "fsync", dir);
    close(fd);
    return ok;
}

bool daemon_config_write(const char *path, JsonNode *root, GError **error)
{
    g_autofree char *text = json_to_string(root, TRUE);
    g_autofree char *tmp = g_strdup_printf("%s.tmp-XXXXXX", path);
    g_autofree char *body = g_strconcat(text, "\n", NULL);
    int fd = g_mkstemp_full(tmp, O_WRONLY | O_CLOEXEC, 0600);

    if (fd < 0) {
        return fail_errno(error, "cannot create a temporary file", tmp);
    }
    if (!write_all(fd, body, strlen(body), tmp, error)) {
        close(fd);
        unlink(tmp);
        return false;
    }
    close(fd);
    if (g_getenv("IOTHREADD_TEST_CRASH_BEFORE_RENAME")) {
        kill(getpid(), SIGKILL);
    }
    if (rename(tmp, path) < 0) {
        fail_errno(error, "rename to", path);
        unlink(tmp);
        return false;
    }
    return sync_dir(path, error);
}
