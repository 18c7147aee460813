/*
 * receipt_cmd — `replog receipt`: does an acknowledged write still exist?
 * Asks the partition leader about each write receipt that libreplog
 * handed out (replog_receipt_status in client/replog.h) and prints its
 * status. Built on libreplog's admin.
 */
#ifndef REPLOG_RECEIPT_CMD_H
#define REPLOG_RECEIPT_CMD_H

#define RECEIPT_EXIT_COMMITTED 0 /* every receipt COMMITTED */
#define RECEIPT_EXIT_ERROR     1 /* a receipt could not be checked (cause on stderr) */
#define RECEIPT_EXIT_USAGE     2
#define RECEIPT_EXIT_PENDING   3 /* some PENDING, none DISCARDED or EXPIRED */
#define RECEIPT_EXIT_DISCARDED 4 /* some DISCARDED */
#define RECEIPT_EXIT_EXPIRED   5 /* some EXPIRED, none DISCARDED */

int receipt_main(int argc, char **argv);
extern const char receipt_help[];

#endif
