"""hil-bench: the bench layer (scenarios, timing, runner, metrics, reports, CLI)."""
from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("hil-bench")
except PackageNotFoundError:  # running from a source tree without installation
    __version__ = "0+unknown"
