"""Real HTTP fakes of Slotbot's upstream services, for tests.

Fixtures (tests/fakes/fixtures.py, loaded by tests/conftest.py): ``fake_slack`` (FakeSlack),
``fake_connector`` (FakeConnector, Bot Framework) and ``fake_cronofy`` (FakeCronofy), one fresh
server per test. Shared mechanics (recording, ``wait_for``, failure injection) are in base.py;
``python -m tests.fakes.serve`` runs one fake in its own process.
"""
