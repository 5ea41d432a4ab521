/*
 * The daemon's config file (--config FILE): loading, checking every part
 * before anything starts, and atomic writing (config-save, --auto-save).
 *
 * Format: one JSON object, every member optional:
 *   "qmp":       ["unix:PATH[,OPT=V]...", "tcp:HOST:PORT[,OPT=V]..."]
 *                the sockets, each as --qmp (server.h: QmpAddress)
 *   "pidfile":   "FILE", as --pidfile
 *   "objects":   [{"qom-type": "iothread", "id": ID, PROP: V...}, ...]
 *                each exactly object-add's arguments, created in order;
 *                when the member is present (even []), the default
 *                iothreads are not created
 *   "main-loop": {PROP: V...}, iothread-set's members for "main-loop"
 * Settings on the command line win: --qmp replaces "qmp", --pidfile
 * "pidfile"; --object adds objects.
 *
 * Checks: the text is JSON (qmp/json-check.h), no object repeats a member,
 * every object is judged by the same code as the object-add command
 * (daemon_commands_check_object_add: the schema, the parameter table, the
 * cpulist, the id) and "main-loop" as iothread-set; ids are unique; every
 * address parses.  A refusal is "FILE:LINE:COL: message" where LINE:COL
 * (1-based; COL counts characters) is the member or element at fault: the
 * member an error message names, else the object.
 *
 * Thread rules: the daemon's main thread.
 */
#ifndef IOTHREAD_CONFIG_H
#define IOTHREAD_CONFIG_H

#include <glib.h>
#include <json-glib/json-glib.h>
#include <stdbool.h>

#include "registry.h"
#include "schema.h"

G_BEGIN_DECLS

typedef struct DaemonConfig {
    char **qmp;             /* NULL when absent */
    char *pidfile;          /* NULL when absent */
    JsonArray *objects;     /* object-add arguments; NULL when absent */
    JsonObject *main_loop;  /* iothread-set arguments (with "id"), or NULL */
} DaemonConfig;

/* Read and check @path.  NULL + @error ("PATH:LINE:COL: message", or
 * "PATH: message" when the file cannot be read) on any problem. */
DaemonConfig *daemon_config_load(const char *path, const QmpSchema *schema,
                                 GError **error);
void daemon_config_free(DaemonConfig *config);

/*
 * Write @root (a config object) to @path atomically: a temporary file in
 * the same directory (mode 0600), write, fsync, rename over @path, fsync
 * of the directory.  A crash at any point leaves either the old file or
 * the new one.  Test hook: when the environment variable
 * IOTHREADD_TEST_CRASH_BEFORE_RENAME is set, the process kills itself
 * (SIGKILL) after the fsync of the temporary file and before the rename,
 * the one moment where both files exist.
 */
bool daemon_config_write(const char *path, JsonNode *root, GError **error);

/*
 * Saving the daemon's state as a config: every iothread of the registry
 * with all its properties (explicit, in creation order), the main-loop's
 * properties, and the settings recorded (the --qmp addresses as given,
 * the pidfile).  Main thread, like the registry.
 */
typedef struct DaemonConfigSaver DaemonConfigSaver;

/* @path: config-save's default target (NULL: none); @auto_save: save
 * there on daemon_config_auto_save (needs @path); @qmp_addresses
 * (NULL-terminated, may be NULL) and @pidfile (may be NULL): the
 * settings recorded.  Copied; @reg must outlive the saver. */
DaemonConfigSaver *daemon_config_saver_new(ObjectRegistry *reg,
                                           const char *path, bool auto_save,
                                           const char *const *qmp_addresses,
                                           const char *pidfile);
void daemon_config_saver_free(DaemonConfigSaver *saver);

/* Write the state to @path (NULL: the saver's own path) with
 * daemon_config_write.  false + @error when there is no path or the
 * write fails. */
bool daemon_config_save(DaemonConfigSaver *saver, const char *path,
                        GError **error);

/* After a change: with auto-save, save to the saver's path; a failure is
 * logged (g_warning) and the change stands. */
void daemon_config_auto_save(DaemonConfigSaver *saver);

G_END_DECLS

#endif /* IOTHREAD_CONFIG_H */
