/* test_config.c - server/config.c: defaults, the three sources and their precedence, errors.
 *
 * config_load() reads argv, PARKLINK_* variables and a --config file; every option of the
 * table must be reachable from all three, and a bad value must be refused (CONFIG_ERROR). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "config.h"
#include "log.h"

static enum config_result load(struct config *cfg, int argc, const char **argv)
{
    /* usage and errors go to stdout/stderr; keep the test output readable */
    FILE *saved = stderr;
    enum config_result r;
    stderr = fopen("/dev/null", "w");
    r = config_load(cfg, argc, (char **)argv);
    fclose(stderr);
    stderr = saved;
    return r;
}

static void test_defaults(void **state)
{
    struct config cfg;
    const char *argv[] = {"parklinkd"};
    (void)state;
    assert_int_equal(load(&cfg, 1, argv), CONFIG_RUN);
    assert_string_equal(cfg.listen, "0.0.0.0:8080");
    assert_string_equal(cfg.store, "./parklink.db");
    assert_true(cfg.threads >= 1);
    assert_int_equal(cfg.body_max, 65536);
    assert_int_equal(cfg.rate_limit, 0);
    assert_int_equal(cfg.log_level, LOG_INFO);
    assert_string_equal(cfg.admin_token, "");
}

static void test_flags(void **state)
{
    struct config cfg;
    const char *argv[] = {"parklinkd", "--listen", "127.0.0.1:9", "--threads=3",
                          "--body-max", "64k", "--admin-body-max", "2m", "--rate-limit", "7",
                          "--log-level", "debug", "--admin-token", "secret",
                          "--max-connections", "5"};
    (void)state;
    assert_int_equal(load(&cfg, sizeof argv / sizeof argv[0], argv), CONFIG_RUN);
    assert_string_equal(cfg.listen, "127.0.0.1:9");
    assert_int_equal(cfg.threads, 3);
    assert_int_equal(cfg.body_max, 65536);
    assert_int_equal(cfg.admin_body_max, 2 << 20);
    assert_int_equal(cfg.rate_limit, 7);
    assert_int_equal(cfg.log_level, LOG_DEBUG);
    assert_string_equal(cfg.admin_token, "secret");
    assert_int_equal(cfg.max_connections, 5);
}

static void test_bad_values(void **state)
{
    struct config cfg;
    const char *cases[][3] = {
        {"parklinkd", "--threads", "0"},     {"parklinkd", "--threads", "x"},
        {"parklinkd", "--body-max", "1g"},   {"parklinkd", "--log-level", "loud"},
        {"parklinkd", "--nope", "1"},        {"parklinkd", "stray", "arg"},
        {"parklinkd", "--rate-limit", "-1"}, {"parklinkd", "--store", ""},
    };
    (void)state;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(load(&cfg, 3, cases[i]), CONFIG_ERROR);
    const char *missing[] = {"parklinkd", "--listen"};
    assert_int_equal(load(&cfg, 2, missing), CONFIG_ERROR);
}

static void test_precedence(void **state)
{
    char path[] = "/tmp/plk-config-XXXXXX";
    int fd = mkstemp(path);
    struct config cfg;
    FILE *f;
    (void)state;

    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    fputs("# comment\n\nthreads = 2\nbody-max = 1000\nstore = \"/var/x.db\"\n", f);
    fclose(f);

    const char *with_file[] = {"parklinkd", "--config", path};
    assert_int_equal(load(&cfg, 3, with_file), CONFIG_RUN);
    assert_int_equal(cfg.threads, 2);
    assert_int_equal(cfg.body_max, 1000);
    assert_string_equal(cfg.store, "/var/x.db");
    assert_string_equal(cfg.config_file, path);

    setenv("PARKLINK_BODY_MAX", "2000", 1);
    assert_int_equal(load(&cfg, 3, with_file), CONFIG_RUN);
    assert_int_equal(cfg.body_max, 2000); /* environment over file */
    assert_int_equal(cfg.threads, 2);

    const char *flag_too[] = {"parklinkd", "--config", path, "--body-max", "3000"};
    assert_int_equal(load(&cfg, 5, flag_too), CONFIG_RUN);
    assert_int_equal(cfg.body_max, 3000); /* flag over environment */

    setenv("PARKLINK_BODY_MAX", "lots", 1);
    assert_int_equal(load(&cfg, 3, with_file), CONFIG_ERROR);
    unsetenv("PARKLINK_BODY_MAX");

    setenv("PARKLINK_CONFIG", path, 1);
    const char *bare[] = {"parklinkd"};
    assert_int_equal(load(&cfg, 1, bare), CONFIG_RUN);
    assert_int_equal(cfg.body_max, 1000);
    unsetenv("PARKLINK_CONFIG");

    f = fopen(path, "w");
    fputs("threads = 2\nno-such = 1\n", f);
    fclose(f);
    assert_int_equal(load(&cfg, 3, with_file), CONFIG_ERROR);
    unlink(path);
    assert_int_equal(load(&cfg, 3, with_file), CONFIG_ERROR); /* file gone */
}

static void test_usage_lists_every_option(void **state)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    const char *names[] = {"listen", "store", "threads", "admin-token", "body-max",
                           "admin-body-max", "max-connections", "rate-limit", "log-level",
                           "shutdown-timeout", "config"};
    (void)state;
    config_usage(out);
    fclose(out);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char flag[64], env[64];
        size_t k = 0;
        snprintf(flag, sizeof flag, "--%s ", names[i]);
        k = (size_t)snprintf(env, sizeof env, "PARKLINK_");
        for (const char *p = names[i]; *p; p++)
            env[k++] = *p == '-' ? '_' : (char)(*p - 'a' + 'A');
        env[k] = '\0';
        assert_non_null(strstr(text, flag));
        assert_non_null(strstr(text, env));
    }
    /* no line longer than 100 columns (counted in bytes: the text is ASCII there) */
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
        if (strchr(line, '-') == line + 2)
            assert_true(strlen(line) <= 100);
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_flags),
        cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_precedence),
        cmocka_unit_test(test_usage_lists_every_option),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
