"""The Ray Serve application: one ingress deployment whose replicas each hold the similarity index in
memory and answer AudioMuse-AI's HTTP routes (``serve.routes``, one APIRouter per area).

    serve run serve_app:app                 # from the repository root (settings from AUDIOMUSE_*)
    audiomuse-ray serve [--host H --port P]

Replicas poll the store for a newer index version (``reload_interval_s``) and swap it in; POST
``/api/reload_index`` does it at once. With ``AUDIOMUSE_API_TOKEN`` set, every ``/api`` and ``/chat/api``
route needs ``Authorization: Bearer <token>``; without one, a server bound to a non-loopback address
refuses write routes.
"""

import logging

from ray import serve

from audiomuse_ray.api import access
from audiomuse_ray.api.holder import LibraryHolder
from audiomuse_ray.serve.routes.dashboard import dashboard_cache
from audiomuse_ray.errors import AudioMuseError
from audiomuse_ray.providers import make_provider
from audiomuse_ray.serve.http_app import create_api
from audiomuse_ray.serve.services import Services, install
from audiomuse_ray.settings import Settings
from audiomuse_ray.store import open_store

log = logging.getLogger(__name__)
APP_NAME = "audiomuse"
KEEP_SCHEDULER_S = 60.0  # how often a replica checks that the scheduler actor exists

api = create_api()


@serve.deployment(name="AudioMuseApi", ray_actor_options={"num_cpus": 0.5})
@serve.ingress(api)
class AudioMuseApi:
    """One replica: the services every route reads, built once; the index loaded and polled."""

    def __init__(self, settings: Settings, reload_interval_s: float = 10.0, keep_scheduler_s: float = 0.0):
        access.configure(settings.api_token, settings.host, settings.hub_tokens)
        if keep_scheduler_s > 0:  # the cluster's one scheduler actor: made if missing, now and then every so often
            from audiomuse_ray.schedule.scheduler import keep_scheduler

            keep_scheduler(settings, keep_scheduler_s)
        store = open_store(settings.database_url)
        holder = LibraryHolder(store)
        try:
            holder.refresh()
        except AudioMuseError as exc:
            log.warning("no similarity index loaded yet: %s", exc)
        holder.start_polling(reload_interval_s)
        self.services = Services(settings, store, holder, make_provider)
        install(self.services)
        dashboard_cache(self.services).prefetch(holder.version)


def build(settings: Settings, reload_interval_s: float = 10.0, num_replicas: int = 1, num_cpus: float = 0.5,
          scheduler: bool = False, scheduler_check_s: float = KEEP_SCHEDULER_S):
    """The bound application for ``serve.run``; with ``scheduler`` its replicas make sure the scheduler actor
    exists, at start and every ``scheduler_check_s`` (the service's own deployments; tests that mount a bare
    API leave it out)."""
    return AudioMuseApi.options(num_replicas=num_replicas, ray_actor_options={"num_cpus": num_cpus},
                                logging_config={"enable_access_log": False, "log_level": "WARNING"}).bind(
        settings, reload_interval_s, scheduler_check_s if scheduler else 0.0)


def app(args: dict[str, object]):
    """Application builder for ``serve run serve_app:app [key=value ...]`` and KubeRay's serveConfigV2 ``args``.

    Settings come from AUDIOMUSE_* and ``args``; Serve hands ``key=value`` over as strings, so every value
    goes through ``Settings.load``'s parser. Besides the settings: ``reload_interval_s`` (seconds between
    index checks), ``num_replicas`` and ``scheduler`` (default true: the replicas keep the scheduler actor
    alive; false where another deployment on the cluster does). An unknown name is an error that lists the
    valid ones."""
    from audiomuse_ray.errors import ConfigurationError
    from audiomuse_ray.settings import parse_value

    args = dict(args or {})
    source = "Serve application argument"
    own = {"reload_interval_s": parse_value("reload_interval_s", args.pop("reload_interval_s", 10.0), float, source),
           "num_replicas": parse_value("num_replicas", args.pop("num_replicas", 1), int, source),
           "scheduler": parse_value("scheduler", args.pop("scheduler", True), bool, source)}
    unknown = sorted(set(args) - set(Settings.names()))
    if unknown:
        raise ConfigurationError(
            f"Unknown Serve application argument{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))}. "
            f"Valid names: {', '.join([*own, *Settings.names()])}."
        )
    if not own["reload_interval_s"] > 0:
        raise ConfigurationError(f"reload_interval_s={own['reload_interval_s']!r} ({source}) must be more than 0 seconds.")
    if own["num_replicas"] < 1:
        raise ConfigurationError(f"num_replicas={own['num_replicas']!r} ({source}) must be 1 or more.")
    return build(Settings.load(**args), own["reload_interval_s"], own["num_replicas"], scheduler=own["scheduler"])

