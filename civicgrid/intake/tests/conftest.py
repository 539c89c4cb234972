"""A small mapped city with public services for the Open311 tests.

厦门市 3502 ─ 集美区 350211 ─ 集美街道 350211001 ─ 岑西社区 350211001001 ─ grid 350211001001001 (mapped)
思明区 350203 (unmapped). One client system reports into 集美区 only.
"""

import pytest

from civicgrid.intake import actions
from civicgrid.intake.models import ServiceAttribute
from civicgrid.org.models import CommandCentre
from civicgrid.regions import generation
from civicgrid.regions.models import Region
from civicgrid.taxonomy.models import Category

GRID = "350211001001001"
POINT = (118.105, 24.605)  # inside the grid
SQUARE = {"type": "Polygon", "coordinates": [[
    [118.10, 24.60], [118.11, 24.60], [118.11, 24.61], [118.10, 24.61], [118.10, 24.60],
]]}
REGIONS = [
    ("350200000000", "city", "厦门市", None),
    ("350211000000", "district", "集美区", "350200000000"),
    ("350203000000", "district", "思明区", "350200000000"),
    ("350211001000", "street", "集美街道", "350211000000"),
    ("350211001001", "community", "岑西社区", "350211001000"),
    (GRID, "grid", "岑西一网格", "350211001001"),
]


class City:
    pass


@pytest.fixture
def city(db) -> City:
    c = City()
    regions: dict[str, Region] = {}
    for code, level, name, parent in REGIONS:
        regions[code] = Region.objects.create(
            code=code, level=level, name=name, parent=regions.get(parent), geometry=SQUARE if code == GRID else None)
    generation.bump()
    c.regions = regions
    c.centre = CommandCentre.objects.create(name="集美区综治中心", level="district", region=regions["350211000000"])
    c.manhole = Category.objects.create(
        kind="component", code="01001", major_code="01", major_name="公用设施", name="上水井盖",
        keywords="井盖、窨井盖", description="上水井盖缺失、破损")
    c.dumping = Category.objects.create(
        kind="matter", code="06010", major_code="06", major_name="市容环境", name="乱倒垃圾", keywords="垃圾,倾倒")
    c.internal = Category.objects.create(
        kind="governance", code="91001", major_code="91", major_name="矛盾纠纷", name="邻里纠纷", is_public=False)
    c.size = ServiceAttribute.objects.create(
        category=c.manhole, code="size", datatype="singlevaluelist", required=True, order=1,
        description="井盖大小", values=[{"key": "small", "name": "小"}, {"key": "large", "name": "大"}])
    c.depth = ServiceAttribute.objects.create(
        category=c.manhole, code="depth", datatype="number", order=2, description="深度（米）")
    c.client, c.api_key = actions.issue_client("城市服务App", region=regions["350211000000"])
    return c


@pytest.fixture
def staff(city):
    """A dispatcher of 集美区, a department serving 集美区 and its handler (on ``city``)."""
    from civicgrid.org.models import Department, DepartmentKind, Role, User

    city.department = Department.objects.create(
        code="jm-cm", name="集美区城管执法局", kind=DepartmentKind.CITY_MANAGEMENT, region=city.regions["350211000000"])
    city.dispatcher = User.objects.create_user(username="dispatcher", password="x", role=Role.DISPATCHER,
                                               centre=city.centre)
    city.handler = User.objects.create_user(username="cm", password="x", role=Role.DEPARTMENT_HANDLER,
                                            department=city.department)
    return city


class Receiver:
    """A real HTTP server on the loopback interface that records every request it gets and answers
    with the next status of ``statuses`` (200 once they are used up)."""

    def __init__(self):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        self.requests: list[dict] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                receiver.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                self.wfile.write(b"ok" if status < 300 else b"busy")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/callbacks/12345"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()
