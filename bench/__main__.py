"""`python -m bench` is the same as the `hil-bench` command."""
import sys

from bench.cli import main

sys.exit(main())
