"""Departments in two districts, and a real HTTP receiver on 127.0.0.1 for the deliveries.

厦门市 3502 ─┬─ 集美区 350211 ── 集美派出所 (jm-police)
             └─ 思明区 350203 ── 思明区城管执法局 (sm-city-management)
"""

import socket
import threading
from dataclasses import dataclass, field
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from civicgrid.org import actions as org_actions
from civicgrid.org.models import DepartmentKind, Role, User
from civicgrid.regions.models import Region


@pytest.fixture
def regions(db) -> dict[str, Region]:
    city = Region.objects.create(code="350200000000", level="city", name="厦门市")
    return {
        "city": city,
        "jimei": Region.objects.create(code="350211000000", level="district", name="集美区", parent=city),
        "siming": Region.objects.create(code="350203000000", level="district", name="思明区", parent=city),
    }


@pytest.fixture
def police(regions):
    return org_actions.create_department(
        code="jm-police", name="集美派出所", kind=DepartmentKind.POLICE_STATION, region=regions["jimei"],
    )


@pytest.fixture
def city_management(regions):
    return org_actions.create_department(
        code="sm-city-management", name="思明区城管执法局", kind=DepartmentKind.CITY_MANAGEMENT,
        region=regions["siming"],
    )


@pytest.fixture
def superuser(db) -> User:
    return User.objects.create_superuser("root", "root@example.org", "secret-pw-123")


@pytest.fixture
def jimei_admin(regions) -> User:
    return org_actions.create_staff(
        username="jimei-admin", role=Role.ADMINISTRATOR, password="secret-pw-123", jurisdiction=regions["jimei"],
    )


@dataclass
class Received:
    path: str
    headers: Message  # case-insensitive, as HTTP headers are
    body: bytes


@dataclass
class Receiver:
    """A department's system: records each POST and answers with the next status in ``statuses``
    (the last one repeats)."""

    url: str
    statuses: list[int] = field(default_factory=lambda: [200])
    requests: list[Received] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)

    def answer(self) -> int:
        return self.statuses.pop(0) if len(self.statuses) > 1 else self.statuses[0]


@pytest.fixture
def receiver():
    state: dict = {}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            length = int(self.headers.get("Content-Length", 0))
            body = self.rfile.read(length)
            rec: Receiver = state["receiver"]
            rec.requests.append(Received(self.path, self.headers, body))
            status = rec.answer()
            reply = b'{"ok": true}' if status < 300 else b'{"error": "boom"}'
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)
            rec.arrived.set()

        def log_message(self, *args):  # keep the test output quiet
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state["receiver"] = Receiver(url=f"http://127.0.0.1:{server.server_address[1]}/civicgrid/hook")
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield state["receiver"]
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def refused_url() -> str:
    """A loopback URL nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/hook"
