/* grab_budget.h — what one target may cost the grabber: CPU time.
 *
 * Wall time per target is bounded by the timeouts; CPU time is not, by
 * itself: a hostile server can make one handshake expensive (a huge DH
 * group, see tls_dhguard.h) or feed a parser as fast as it reads. The
 * io loop therefore reads the thread's CPU clock (CLOCK_THREAD_CPUTIME_ID,
 * ~25 ns a read through the vDSO) around every socket event, TLS handshake
 * steps included, and the grabber charges it to the connection's target
 * (io_loop.charge). A target over its budget ends at once, like one past
 * its total timeout, and its record says GRAB_CPU_REASON. One event cannot
 * be cut short, so a target may overshoot by the cost of its last event;
 * the DH guard bounds the dearest event there is. */
#ifndef PROBE_GRAB_BUDGET_H
#define PROBE_GRAB_BUDGET_H

#define GRAB_CPU_BUDGET_MS_DEFAULT 1000			  /* a normal target costs 1-10 ms */
#define GRAB_CPU_REASON		   "cpu: budget-exceeded" /* the record's error (stable) */

#endif
