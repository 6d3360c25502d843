/*
 * Stopping points for the crash tests (tests/hostile/test_faults.c): a
 * process started with
 *
 *     TADD_FAULT_STOP=PROGRAM:POINT:N
 *
 * in its environment stops itself with SIGSTOP the N-th time it passes
 * POINT, so that the test can SIGKILL it at exactly that moment: inside
 * a database transaction, or between writing a file and renaming it into
 * place. PROGRAM is the name a program gives tadd_fault_init (taddd,
 * tadd-worker), which keeps a daemon's setting from stopping the workers
 * that inherit its environment, and the other way round.
 *
 * Points:
 *   db-commit   taddd, a transaction's statements done, before COMMIT
 *   file-write  a file written to its temporary name, before its fsync
 *               and rename (checkpoints, summaries, resume states, ...)
 *
 * Without the variable, or when it names another program, a point is one
 * load and one comparison.
 */
#ifndef TADD_FAULTPOINT_H
#define TADD_FAULTPOINT_H

/* Reads TADD_FAULT_STOP for this program; call once, before threads. */
void tadd_fault_init(const char *program);

/* Stops the process here when this is the chosen pass of this point. */
void tadd_fault_point(const char *point);

#endif
