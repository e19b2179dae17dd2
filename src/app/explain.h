/*
 * explain: `portico explain -c FILE METHOD URL [-H 'Name: value']...
 * [--client-ip IP]` — how a request would be handled, without sending
 * anything: listener, route (and why each earlier one did not match),
 * upstream and candidate servers, and the policies that apply.
 */
#ifndef PORTICO_APP_EXPLAIN_H
#define PORTICO_APP_EXPLAIN_H

/* Runs the command on argv (argv[0] is "explain"); returns the exit code. */
int explain_main(int argc, char **argv);

#endif
