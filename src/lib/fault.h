/* Test-only fault points: a named place in the code where a test can make the
 * process die exactly as kill -9 would, to hit a window no outside timing can aim
 * at reliably (for example between journalling a signed transaction and sending
 * it). Inert unless $TRADEBRIDGE_TEST_FAULT names the point; never set it outside
 * tests. Building with -DTB_NO_TEST_FAULTS compiles every point out.
 * Invariant: a point that does not fire has no effect at all. */
#ifndef TB_FAULT_H
#define TB_FAULT_H

/* The test-only variable: a comma-separated list of point names. */
#define TB_FAULT_ENV "TRADEBRIDGE_TEST_FAULT"

#ifdef TB_NO_TEST_FAULTS
#define tb_fault_point(name) ((void)(name))
#else
/* If $TRADEBRIDGE_TEST_FAULT lists name: say so on stderr and raise SIGKILL. */
void tb_fault_point(const char *name);
#endif

#endif
