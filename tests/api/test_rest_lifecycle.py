"""The whole life of a credential over HTTP, as the organisations that own each step."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from uuid import uuid4

from fastapi.testclient import TestClient

from mcreg.bootstrap import Services
from mcreg.projections.read_models import ReadModels
from mcreg.registry.vocabulary import Role

ROOT = Path(__file__).resolve().parents[2]


def load_lifecycle():
    spec = importlib.util.spec_from_file_location("lifecycle", ROOT / "deploy" / "lifecycle.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["lifecycle"] = module
    spec.loader.exec_module(module)
    return module


def test_the_lifecycle_script_plays_every_step_and_verify_ends_revoked(
    services: Services, read_models: ReadModels, client: TestClient
) -> None:
    lifecycle = load_lifecycle()
    operator = services.keys.create(uuid4(), Role.OPERATOR, name="test").token
    worker = read_models.worker()
    worker.start()
    try:
        answer = lifecycle.Lifecycle(client, operator, say=lambda _: None).play()
    finally:
        worker.stop()
        worker.join()
    assert answer["status"] == "revoked"
    assert answer["valid"] is False
    assert answer["recognitions"] == {"recognised": 1}
    assert answer["qa_at_issue"]["standing"] == "in_force"
