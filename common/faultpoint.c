#include "faultpoint.h"

#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char fault_point_name[64];
static long fault_at;             /* the pass that stops; 0: none */
static atomic_long fault_passes;

void tadd_fault_init(const char *program)
{
    const char *spec = getenv("TADD_FAULT_STOP");
    size_t plen = strlen(program);
    const char *point, *colon;
    char *end;
    long n;

    fault_at = 0;
    if (!spec || strncmp(spec, program, plen) != 0 || spec[plen] != ':')
        return;
    point = spec + plen + 1;
    colon = strchr(point, ':');
    if (!colon || (size_t)(colon - point) >= sizeof(fault_point_name))
        return;
    n = strtol(colon + 1, &end, 10);
    if (*end != '\0' || n < 1)
        return;
    memcpy(fault_point_name, point, (size_t)(colon - point));
    fault_point_name[colon - point] = '\0';
    atomic_store(&fault_passes, 0);
    fault_at = n;
}

void tadd_fault_point(const char *point)
{
    if (fault_at == 0 || strcmp(point, fault_point_name) != 0)
        return;
    if (atomic_fetch_add(&fault_passes, 1) + 1 == fault_at)
        raise(SIGSTOP);
}
