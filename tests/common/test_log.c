/*
 * Logging: the fixed line prefix, level filtering, level names.
 */
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "check.h"

int main(void)
{
    char buf[8192];
    char want[64];
    FILE *f = tmpfile();
    regex_t re;
    char *line, *save = NULL;
    size_t n;
    int lines = 0;

    REQUIRE(f != NULL);
    tadd_log_set_output(f);
    tadd_log_set_level(TADD_LOG_INFO);
    tadd_debug("hidden %d", 1);
    tadd_info("started with %d models", 8);
    tadd_warn("disk at %s", "90%");
    tadd_log_set_level(TADD_LOG_ERROR);
    tadd_warn("hidden too");
    tadd_error("failed: %s", "no space");
    tadd_log_set_level(TADD_LOG_DEBUG);
    tadd_debug("now visible");
    {
        /* A very long message is cut but still ends its line. */
        char big[4000];
        memset(big, 'z', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        tadd_info("%s", big);
    }
    tadd_log_set_output(NULL);

    rewind(f);
    n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    CHECK(strstr(buf, "hidden") == NULL);
    REQUIRE(regcomp(&re, "^[0-9]+ [0-9]{4}-[0-9]{2}-[0-9]{2} "
                         "[0-9]{2}:[0-9]{2}:[0-9]{2}\\.[0-9]{3} "
                         "(DEBUG|INFO|WARN|ERROR) .+$",
                    REG_EXTENDED | REG_NOSUB) == 0);
    snprintf(want, sizeof(want), "%ld ", (long)getpid());
    for (line = strtok_r(buf, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        CHECK(regexec(&re, line, 0, NULL, 0) == 0);
        CHECK(strncmp(line, want, strlen(want)) == 0);
        lines++;
    }
    regfree(&re);
    CHECK_INT_EQ(lines, 5);
    REQUIRE(n > 0 && n < sizeof(buf) - 1);

    CHECK_INT_EQ(tadd_log_level_parse("debug"), TADD_LOG_DEBUG);
    CHECK_INT_EQ(tadd_log_level_parse("info"), TADD_LOG_INFO);
    CHECK_INT_EQ(tadd_log_level_parse("warn"), TADD_LOG_WARN);
    CHECK_INT_EQ(tadd_log_level_parse("error"), TADD_LOG_ERROR);
    CHECK_INT_EQ(tadd_log_level_parse("INFO"), -1);
    CHECK_INT_EQ(tadd_log_level_parse(""), -1);
    CHECK_INT_EQ(tadd_log_level_parse(NULL), -1);
    CHECK_DONE();
}
