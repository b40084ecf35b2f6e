"""ray-cluster.yaml, checked without Kubernetes: every document against KubeRay's own CRD schemas, the
RayService's serveConfigV2 against Ray Serve's ``ServeDeploySchema``, and that same Serve config deployed on
the session's Serve and answering HTTP.

The CRDs are ../shared/kuberay-crds/ (ray-project/kuberay, ray-operator/config/crd/bases/, commit
feeaf72facab4881ba2b179248bb67315634e229, Apache-2.0): each version's ``schema.openAPIV3Schema`` validated
strictly, i.e. an object schema that lists ``properties`` is closed unless it says
``x-kubernetes-preserve-unknown-fields``, so a misspelt field fails as the API server would drop it.
"""

from __future__ import annotations

import copy
import os
import time
from pathlib import Path

import pytest
import requests
import yaml

from tests.conftest import REPO, wait_until_routed

CRDS = next((p for p in (REPO / "shared" / "kuberay-crds", REPO.parent / "shared" / "kuberay-crds") if p.is_dir()), None)
MANIFEST = REPO / "ray-cluster.yaml"
HA_PROXY_ENV = {"RAY_SERVE_ENABLE_HA_PROXY": "1", "RAY_SERVE_THROUGHPUT_OPTIMIZED": "1"}
PREFIX = "kuberay-"


def _closed(schema):
    """The schema with every object that lists properties closed to other fields (see the module doc)."""
    if isinstance(schema, dict):
        schema = {k: _closed(v) for k, v in schema.items()}
        if ("properties" in schema and "additionalProperties" not in schema
                and not schema.get("x-kubernetes-preserve-unknown-fields")):
            schema["additionalProperties"] = False
        return schema
    if isinstance(schema, list):
        return [_closed(v) for v in schema]
    return schema


@pytest.fixture(scope="module")
def validators():
    import jsonschema

    if CRDS is None:
        pytest.skip("../shared/kuberay-crds not found beside the repository")
    out = {}
    for path in sorted(CRDS.glob("ray.io_*.yaml")):
        crd = yaml.safe_load(path.read_text())
        for version in crd["spec"]["versions"]:
            key = (f"{crd['spec']['group']}/{version['name']}", crd["spec"]["names"]["kind"])
            schema = _closed(version["schema"]["openAPIV3Schema"])
            out[key] = jsonschema.Draft7Validator(schema)
    return out


@pytest.fixture(scope="module")
def documents() -> list[dict]:
    return [d for d in yaml.safe_load_all(MANIFEST.read_text()) if d]


def _errors(validators, doc) -> list[str]:
    validator = validators[(doc["apiVersion"], doc["kind"])]
    return [f"{'.'.join(map(str, e.absolute_path))}: {e.message}" for e in validator.iter_errors(doc)]


def test_every_document_is_valid_against_kuberays_crds(validators, documents):
    kinds = [d["kind"] for d in documents]
    assert kinds == ["RayService", "RayJob", "RayJob"]
    for doc in documents:
        assert doc["apiVersion"] == "ray.io/v1"
        assert _errors(validators, doc) == [], doc["metadata"]["name"]


def test_the_strict_check_catches_a_misspelt_field(validators, documents):
    service = copy.deepcopy(documents[0])
    service["spec"]["serveConfigV3"] = service["spec"].pop("serveConfigV2")
    assert any("serveConfigV3" in e for e in _errors(validators, service))
    job = copy.deepcopy(documents[1])
    job["spec"]["submitterPodTemplate"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    assert any("imagePullPolicyy" in e for e in _errors(validators, job))


def _pods(documents):
    """(name, pod spec) of every pod template in the manifests."""
    service = documents[0]["spec"]["rayClusterConfig"]
    yield "head", service["headGroupSpec"]["template"]["spec"]
    for group in service["workerGroupSpecs"]:
        yield group["groupName"], group["template"]["spec"]
    for job in documents[1:]:
        yield job["metadata"]["name"], job["spec"]["submitterPodTemplate"]["spec"]


def test_pods_run_the_image_with_haproxy_switches_and_the_database_secret(documents):
    for name, pod in _pods(documents):
        for container in pod["containers"]:
            assert container["image"] == "audiomuse-ray:latest", name
            env = {e["name"]: e for e in container["env"]}
            assert {k: env[k].get("value") for k in HA_PROXY_ENV} == HA_PROXY_ENV, name
    service = documents[0]["spec"]["rayClusterConfig"]
    ray_pods = [service["headGroupSpec"]["template"]["spec"],
                *(g["template"]["spec"] for g in service["workerGroupSpecs"])]
    for pod in ray_pods:
        container = pod["containers"][0]
        env = {e["name"]: e for e in container["env"]}
        assert env["AUDIOMUSE_DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {"name": "audiomuse", "key": "database-url"}
        assert container["readinessProbe"]["httpGet"] == {"path": "/api/health", "port": 8000}
        assert {"cpu", "memory"} <= set(container["resources"]["requests"])
    for job in documents[1:]:
        assert job["spec"]["clusterSelector"] == {"ray.io/cluster": "audiomuse-raycluster"}
        assert job["spec"]["entrypoint"].startswith("python jobs/") and "rayClusterSpec" not in job["spec"]
        assert (REPO / job["spec"]["entrypoint"].split()[1]).is_file()


@pytest.fixture(scope="module")
def serve_config(documents):
    from ray.serve.schema import ServeDeploySchema

    config = yaml.safe_load(documents[0]["spec"]["serveConfigV2"])
    return ServeDeploySchema.parse_obj(config)


def test_serve_config_v2_is_a_valid_serve_config_with_string_args(serve_config):
    local = yaml.safe_load((REPO / "serve_config.yaml").read_text())
    assert [(a.name, a.route_prefix, a.import_path) for a in serve_config.applications] == [
        (a["name"], a["route_prefix"], a["import_path"]) for a in local["applications"]]
    assert serve_config.http_options.port == 8000 and serve_config.http_options.host == "0.0.0.0"
    for app in serve_config.applications:
        assert app.args and all(isinstance(v, str) for v in app.args.values()), app.name


@pytest.mark.integration
@pytest.mark.slow
def test_the_serve_config_deploys_and_answers_http(serve_config, serve_base, tmp_path, monkeypatch):
    """Each application built as Serve builds it from the config (import path + args, strings as they are),
    with data, models and the UI's API address pointed at this test, and run under the config's prefixes."""
    import ray
    from ray import serve
    from ray._common.utils import import_attr
    from ray.serve._private.api import call_user_app_builder_with_args_if_necessary

    from audiomuse_ray.runtime.jobs import JOB_NAMESPACE
    from audiomuse_ray.schedule.scheduler import SCHEDULER_NAME, stop_scheduler

    for name in [n for n in os.environ if n.startswith("AUDIOMUSE_")]:
        monkeypatch.delenv(name)
    overrides = {"data_dir": str(tmp_path / "data"), "models_dir": str(REPO / "models")}
    names = []
    try:
        for app in serve_config.applications:
            args = {**app.args, **overrides}
            if "num_replicas" in args:  # the session's cluster has 2 CPUs; each API replica reserves 0.5
                args["num_replicas"] = "1"
            if "api_url" in args:
                args["api_url"] = serve_base
            built = call_user_app_builder_with_args_if_necessary(import_attr(app.import_path), args)
            serve.run(built, name=PREFIX + app.name, route_prefix=app.route_prefix)
            names.append(PREFIX + app.name)
        wait_until_routed(serve_base + "/api/health")
        wait_until_routed(serve_base + "/")
        health = requests.get(serve_base + "/api/health", timeout=10)
        assert health.status_code == 200 and health.json()["status"]
        page = requests.get(serve_base + "/", timeout=30)
        assert page.status_code == 200 and "audiomuse-ray" in page.text
        chat = requests.get(serve_base + "/chat/api/config_defaults", timeout=10)
        assert chat.status_code == 200 and "ai_providers" in chat.json()
        assert ray.get_actor(SCHEDULER_NAME, namespace=JOB_NAMESPACE)  # the API's replicas keep the scheduler
    finally:
        for name in names:
            serve.delete(name, _blocking=False)
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and any(n in serve.status().applications for n in names):
            time.sleep(0.5)
        stop_scheduler()  # detached: it would outlive this test otherwise
