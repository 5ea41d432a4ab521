/*
 * Listening addresses and their access options (see server.h).
 */
#include "server.h"

#include <arpa/inet.h>
#include <grp.h>
#include <string.h>

static bool fail(GError **error, const char *text, const char *problem)
{
    g_set_error(error, QMP_ERROR, QMP_ERROR_GENERIC, "'%s': %s", text,
                problem);
    return false;
}

/* "on"/"off" into *@out. */
static bool parse_switch(const char *value, bool *out)
{
    if (strcmp(value, "on") == 0 || strcmp(value, "off") == 0) {
        *out = value[1] == 'n';
        return true;
    }
    return false;
}

static bool parse_mode(const char *value, int *out)
{
    guint64 v;

    if (value[0] != '0' ||
        !g_ascii_string_to_unsigned(value, 8, 0, 0777, &v, NULL)) {
        return false;
    }
    *out = (int)v;
    return true;
}

static bool parse_group(const char *value, unsigned *gid)
{
    struct group *gr = *value ? getgrnam(value) : NULL;

    if (!gr) {
        return false;
    }
    *gid = gr->gr_gid;
    return true;
}

/* One "KEY=VALUE" option of @text into @a. */
static bool parse_option(const char *text, char *opt, QmpAddress *a,
                         GError **error)
{
    char *eq = strchr(opt, '=');
    guint64 n;
    bool ok;

    if (!eq) {
        g_autofree char *p = g_strdup_printf("option '%s' is not KEY=VALUE",
                                             opt);
        return fail(error, text, p);
    }
    *eq = '\0';
    const char *key = opt, *value = eq + 1;
    bool unix_only = !strcmp(key, "mode") || !strcmp(key, "group");
    if (!strcmp(key, "mode")) {
        ok = parse_mode(value, &a->mode);
    } else if (!strcmp(key, "group")) {
        ok = a->has_group = parse_group(value, &a->gid);
    } else if (!strcmp(key, "readonly")) {
        ok = parse_switch(value, &a->readonly);
    } else if (!strcmp(key, "allow-remote")) {
        ok = !a->is_unix && parse_switch(value, &a->allow_remote);
    } else if (!strcmp(key, "max-clients")) {
        ok = g_ascii_string_to_unsigned(value, 10, 1, 65535, &n, NULL);
        a->max_clients = (unsigned)n;
    } else {
        g_autofree char *p = g_strdup_printf("unknown option '%s' (expected "
            "mode, group, readonly, max-clients, allow-remote)", key);
        return fail(error, text, p);
    }
    if (ok && unix_only && !a->is_unix) {
        ok = false;
    }
    if (!ok) {
        g_autofree char *p = g_strdup_printf(
            "bad value '%s' of option '%s' (mode=OCTAL up to 0777 and group="
            "NAME of an existing group on unix sockets; readonly=on|off; "
            "max-clients=1..65535; allow-remote=on|off on tcp)", value, key);
        return fail(error, text, p);
    }
    return true;
}

/* "tcp:HOST:PORT": the host as an IPv4 address. */
static bool parse_tcp(const char *text, const char *hostport, QmpAddress *a,
                      GError **error)
{
    const char *colon = strrchr(hostport, ':');
    g_autofree char *host = colon ? g_strndup(hostport, colon - hostport)
                                  : NULL;
    struct in_addr in;
    guint64 port;

    if (!colon || !g_ascii_string_to_unsigned(colon + 1, 10, 0, 65535, &port,
                                              NULL)) {
        return fail(error, text, "expected tcp:HOST:PORT with PORT 0..65535");
    }
    if (strcmp(host, "localhost") == 0) {
        g_free(host);
        host = g_strdup("127.0.0.1");
    }
    if (inet_pton(AF_INET, host, &in) != 1) {
        return fail(error, text, "HOST must be an IPv4 address or localhost");
    }
    a->host = g_steal_pointer(&host);
    a->port = (int)port;
    return true;
}

/* The part before the first ',': the socket itself. */
static bool parse_socket(const char *text, const char *sock, QmpAddress *a,
                         GError **error)
{
    if (g_str_has_prefix(sock, "unix:") && sock[5]) {
        a->is_unix = true;
        a->path = g_strdup(sock + 5);
        return true;
    }
    if (g_str_has_prefix(sock, "tcp:")) {
        return parse_tcp(text, sock + 4, a, error);
    }
    return fail(error, text, "expected unix:PATH or tcp:127.0.0.1:PORT, "
                "then ,OPTION=VALUE...");
}

/* No option twice: each key (the text before '=') once. */
static bool check_repeats(const char *text, char **opts, GError **error)
{
    for (int i = 1; opts[i]; i++) {
        size_t len = strcspn(opts[i], "=");
        for (int j = 1; j < i; j++) {
            if (strcspn(opts[j], "=") == len &&
                strncmp(opts[i], opts[j], len) == 0) {
                g_autofree char *p = g_strdup_printf(
                    "option '%.*s' given twice", (int)len, opts[i]);
                return fail(error, text, p);
            }
        }
    }
    return true;
}

static bool is_loopback(const char *host)
{
    struct in_addr in;

    return inet_pton(AF_INET, host, &in) == 1 &&
           (ntohl(in.s_addr) >> 24) == 127;
}

bool qmp_address_parse(const char *text, QmpAddress *out, GError **error)
{
    g_auto(GStrv) opts = g_strsplit(text, ",", -1);
    bool ok;

    memset(out, 0, sizeof(*out));
    out->mode = 0600;
    ok = opts[0] && parse_socket(text, opts[0], out, error) &&
         check_repeats(text, opts, error);
    for (int i = 1; ok && opts[i]; i++) {
        ok = parse_option(text, opts[i], out, error);
    }
    if (ok && !out->is_unix && !out->allow_remote && !is_loopback(out->host)) {
        ok = fail(error, text, "only loopback (127.0.0.1) is allowed unless "
                  "allow-remote=on is given: QMP has no authentication");
    }
    if (!ok) {
        qmp_address_clear(out);
    }
    return ok;
}

void qmp_address_clear(QmpAddress *addr)
{
    g_free(addr->path);
    g_free(addr->host);
    memset(addr, 0, sizeof(*addr));
}

bool qmp_address_readonly_allows(const char *command)
{
    static const char *const allowed[] = {
        "qmp_capabilities", "qom-get", "qom-list", NULL
    };

    /* query-qmp-schema is a query-* too. */
    return g_str_has_prefix(command, "query-") ||
           g_strv_contains(allowed, command);
}
