"""Joining Ray: the cluster at ``settings.ray_address``, or a local Ray started on free ports.

A local Ray never takes port 6379 (Redis's, and Ray's default head port): ``ray.init()`` without an
address picks free ports itself. A local Ray also gets the environment of the Serve ingress the settings
ask for (``serve.ingress``), since Serve reads it when its processes start.
"""

from __future__ import annotations

import logging
import os
import signal
import threading

import ray

from audiomuse_ray.settings import Settings


def connect_ray(settings: Settings, *, num_cpus: int | None = None) -> None:
    """Idempotent: keeps an existing connection (a test fixture's, a Ray job's)."""
    if ray.is_initialized():
        return
    os.environ.setdefault("RAY_DEDUP_LOGS", "1")
    keep = _python_sigterm_handler()
    try:
        _init(settings, num_cpus)
    finally:
        if keep is not None:
            signal.signal(signal.SIGTERM, keep)


def _python_sigterm_handler():
    """``ray.init`` installs Ray's own SIGTERM handler in the driver (it logs a stack trace and kills the
    process), replacing one the caller set: the CLI's, which turns ``docker stop`` into a Ctrl-C that
    cancels the job and stops Serve cleanly. The caller's handler (main thread only) is put back after."""
    if threading.current_thread() is not threading.main_thread():
        return None
    handler = signal.getsignal(signal.SIGTERM)
    return handler if callable(handler) else None


def _init(settings: Settings, num_cpus: int | None) -> None:
    if settings.ray_address:
        ray.init(address=settings.ray_address, logging_level=logging.WARNING, log_to_driver=False)
    else:
        from audiomuse_ray.runtime.ingress import apply_ingress_env

        apply_ingress_env(settings.serve_ingress, cpus=num_cpus)
        # "local": always a new Ray of our own, never a cluster some other program left running here
        ray.init(address="local", num_cpus=num_cpus, include_dashboard=False, logging_level=logging.WARNING,
                 log_to_driver=False)
