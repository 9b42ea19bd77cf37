"""hil-bench's pytest plugin: the same test file runs on simulators (default) and on the bench.

Registered through the ``pytest11`` entry point (``hil_bench``), so installing hil-bench is enough.
Modules: `options` (--bench-* options and their environment variables), `devices` (which device
is real, simulated or missing, probed once per run), `bench` (the session's lab), `arm` (the
guarded, observed arm tests get), `traffic` (per-test traffic logs), `measure` (measurements with
limits), `results` (results.json and the terminal summary), `state` (shared per-run state),
`fixtures` (the fixtures), `plugin` (the hooks).
See docs/pytest-plugin.md.
"""
