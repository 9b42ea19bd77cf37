"""The exit codes of every `hil-bench` subcommand (docs/reliability.md says what produces each).

1 means only "a tolerance failed": nothing else may produce it, so a CI pipeline never reads a
crash or a bad file as a robot that missed its target.
"""
EXIT_PASS = 0          #: every tolerance passed (or was marginal); a command that did its job
EXIT_FAIL = 1          #: a tolerance failed (a measured figure beyond its limit; NO-GO)
EXIT_CONFIG = 2        #: bad input or configuration (files, options, paths given by the user)
EXIT_DEVICE = 3        #: a device or runtime error (no reply, refused, storage failed)
EXIT_INTERNAL = 70     #: an exception nobody meant to raise (a bug); EX_SOFTWARE of sysexits.h
EXIT_INTERRUPTED = 130  #: Ctrl-C or SIGTERM
