"""``audiomuse-ray doctor``: checks settings, database, provider, Ray and models, in plain words."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Callable

from audiomuse_ray.commands.registry import command
from audiomuse_ray.errors import AudioMuseError
from audiomuse_ray.settings import Settings, redact_url


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str


def check_database(settings: Settings) -> Check:
    from audiomuse_ray.store import open_store, schema_version
    from audiomuse_ray.store.tracks import count_tracks

    store = open_store(settings.database_url)
    try:
        return Check("database", True, f"{redact_url(settings.database_url)} (schema {schema_version(store)}, "
                                        f"{count_tracks(store)} analysed tracks)")
    finally:
        store.dispose()


def check_provider(settings: Settings) -> Check:
    from audiomuse_ray.providers import make_provider

    health = make_provider(settings).health()
    return Check(f"provider ({settings.provider})", health.ok, health.detail)


def check_models(settings: Settings) -> Check:
    from audiomuse_ray.analysis.models import describe_models

    return Check("models", True, describe_models(settings.models_dir))


def check_ray(settings: Settings) -> Check:
    import ray

    if not settings.ray_address:
        return Check("ray", True, f"Ray {ray.__version__}; a local Ray is started when a job needs it")
    ray.init(address=settings.ray_address, logging_level="ERROR")
    try:
        cpus = ray.cluster_resources().get("CPU", 0)
        return Check("ray", True, f"connected to {settings.ray_address}: {len(ray.nodes())} node(s), {cpus:g} CPUs")
    finally:
        ray.shutdown()


CHECKS: list[Callable[[Settings], Check]] = [check_database, check_provider, check_models, check_ray]


def run_checks(settings: Settings) -> list[Check]:
    results = []
    for check in CHECKS:
        name = check.__name__.removeprefix("check_")
        try:
            results.append(check(settings))
        except AudioMuseError as exc:
            results.append(Check(name, False, str(exc)))
        except Exception as exc:  # doctor reports anything, it must not crash on a broken setup
            results.append(Check(name, False, f"{type(exc).__name__}: {exc}"))
    return results


@command("doctor", "check settings, database, media provider, Ray and models")
def doctor(settings: Settings, args: argparse.Namespace) -> int:
    print("settings:")
    for key, value in settings.public_dict().items():
        print(f"   {key} = {value}")
    results = run_checks(settings)
    for r in results:
        print(f"[{'ok' if r.ok else 'FAIL'}] {r.name}: {r.detail}")
    failed = [r for r in results if not r.ok]
    print("all good" if not failed else f"{len(failed)} problem(s) found")
    return 1 if failed else 0
