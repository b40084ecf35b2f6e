"""audiomuse-ray: self-hosted music intelligence on Ray."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("audiomuse-ray")
except PackageNotFoundError:  # a checkout that was never installed
    __version__ = "0.0.0"
