"""The deployment files, checked offline: the Kubernetes manifests against the API's own
schemas (kubernetes-validate), compose.yaml against the Compose Specification's schema
(schemas/compose-spec.json), and the Dockerfile for what it promises. No image can be built
here; tests/scenarios/test_scale_out.py runs the same topology as processes."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml

from tests.support.schemas import SCHEMAS

ROOT = Path(__file__).resolve().parents[2]
KUBE = ROOT / "deploy" / "kubernetes"
KUBE_VERSION = "1.31.0"


def kube_documents() -> list[tuple[str, dict[str, Any]]]:
    docs = []
    for path in sorted(KUBE.glob("*.yaml")):
        if path.name == "kustomization.yaml":
            continue
        docs += [(path.name, doc) for doc in yaml.safe_load_all(path.read_text()) if doc]
    return docs


def by_kind(kind: str, component: str | None = None) -> dict[str, Any]:
    [doc] = [
        d
        for _, d in kube_documents()
        if d["kind"] == kind
        and (
            component is None
            or d["metadata"]["labels"].get("app.kubernetes.io/component") == component
        )
    ]
    return doc


@pytest.mark.parametrize(
    ("name", "doc"), kube_documents(), ids=lambda v: v if isinstance(v, str) else ""
)
def test_each_kubernetes_object_is_valid_for_the_api(name: str, doc: dict[str, Any]) -> None:
    kubernetes_validate.validate(doc, KUBE_VERSION, strict=True)


def test_kustomization_lists_every_object_but_the_secret_example() -> None:
    listed = yaml.safe_load((KUBE / "kustomization.yaml").read_text())["resources"]
    files = {p.name for p in KUBE.glob("*.yaml")} - {"kustomization.yaml", "secret.example.yaml"}
    assert sorted(listed) == sorted(files)


def _container(deployment: dict[str, Any]) -> dict[str, Any]:
    [container] = deployment["spec"]["template"]["spec"]["containers"]
    return container


def test_serve_runs_two_replicas_with_probes_on_the_apps_own_routes() -> None:
    serve = by_kind("Deployment", "serve")
    container = _container(serve)
    assert serve["spec"]["replicas"] == 2
    assert container["args"] == ["python", "-m", "bot", "serve"]
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert serve["spec"]["template"]["spec"]["securityContext"]["runAsNonRoot"] is True


def test_worker_runs_the_worker_and_both_read_the_same_settings() -> None:
    serve, worker = by_kind("Deployment", "serve"), by_kind("Deployment", "worker")
    assert _container(worker)["args"] == ["python", "-m", "bot", "worker"]
    assert _container(worker)["envFrom"] == _container(serve)["envFrom"]
    secret = by_kind("Secret")["metadata"]["name"]
    assert {"secretRef": {"name": secret}} in _container(serve)["envFrom"]


def test_service_and_budget_select_the_serving_pods() -> None:
    serve_labels = by_kind("Deployment", "serve")["spec"]["template"]["metadata"]["labels"]
    for selector in (
        by_kind("Service")["spec"]["selector"],
        by_kind("PodDisruptionBudget")["spec"]["selector"]["matchLabels"],
    ):
        assert selector.items() <= serve_labels.items()
    assert by_kind("PodDisruptionBudget")["spec"]["minAvailable"] == 1


def test_the_secret_example_holds_no_secret() -> None:
    values = by_kind("Secret")["stringData"]
    assert all(not v or v.startswith(("<", "redis://slotbot-redis")) for v in values.values())


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "compose.yaml").read_text())


def test_compose_file_follows_the_compose_specification(compose: dict[str, Any]) -> None:
    schema = json.loads((SCHEMAS / "compose-spec.json").read_text())
    errors = [e.message for e in jsonschema.Draft7Validator(schema).iter_errors(compose)]
    assert errors == []


def test_compose_runs_serve_and_a_worker_on_a_durable_redis(compose: dict[str, Any]) -> None:
    services = compose["services"]
    assert services["slotbot"]["command"] == ["python", "-m", "bot", "serve"]
    assert services["worker"]["command"] == ["python", "-m", "bot", "worker"]
    redis_command = " ".join(services["redis"]["command"])
    assert "--appendonly yes" in redis_command and "--appendfsync always" in redis_command
    for name in ("slotbot", "worker"):
        env = services[name]["environment"]
        assert env["BOT_STORE_URL"] == "redis://redis:6379/0"
        assert services[name]["depends_on"]["redis"]["condition"] == "service_healthy"


def test_dockerfile_is_slim_non_root_and_checks_its_own_health() -> None:
    text = (ROOT / "Dockerfile").read_text()
    assert re.search(r"^FROM python:3\.11-slim$", text, re.M)
    user = re.findall(r"^USER (\S+)$", text, re.M)
    assert user and user[-1] not in ("root", "0")
    assert "HEALTHCHECK" in text and "/healthz" in text
    assert re.search(r'^CMD \["python", "-m", "bot", "serve"\]$', text, re.M)
    for source in re.findall(r"^COPY (.+) \S+$", text, re.M):
        for part in source.split():
            assert (ROOT / part).exists(), f"COPY {part}: not in the repository"
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {".git", ".venv", "data"} <= set(ignored)
