"""The four services in one table: name, port, package, folder, and whom each one calls.

Everything that needs one of these facts reads it here: the services their defaults
(common/settings.py), `make run` (native/run_services.py), the tests and the diagram's
test. Docker Compose cannot read Python: it gets the ports from .env, and
tests/test_containers.py checks .env against this table.
"""

from dataclasses import dataclass, field

# Every service answers health checks here (common/http.py), and its telemetry leaves
# them out (common/telemetry.py).
HEALTH_PATH = "/healthz"


@dataclass(frozen=True)
class Service:
    name: str  # its service.name, and its host name under Docker Compose
    port: int
    package: str  # the Python package with create_app()
    directory: str  # its folder, from the repository's root
    # The most one request may take, in seconds (REQUEST_BUDGET_SECONDS). The
    # frontend's is the whole form submission's; a backend's caps what a caller gives it.
    request_budget_seconds: float
    # The services it calls: the setting that holds the URL -> the service's name.
    calls: dict[str, str] = field(default_factory=dict)

    @property
    def port_variable(self) -> str:
        """The variable that moves its port, natively and in .env: GATEWAY_PORT."""
        return self.name.upper().replace("-", "_") + "_PORT"


# In the order they start: each one after those it calls.
SERVICES = [
    Service("geolocator-service", 8082, "geolocator", "backend/geolocator-service", 5),
    Service("iss-distance-service", 8083, "iss_distance", "backend/iss-distance-service", 5),
    Service(
        "gateway",
        8081,
        "gateway",
        "backend/gateway",
        10,
        calls={"GEOLOCATOR_URL": "geolocator-service", "ISS_DISTANCE_URL": "iss-distance-service"},
    ),  # fmt: skip
    # 8080, because macOS's AirPlay receiver holds 5000 and 7000.
    Service("frontend", 8080, "webapp", "frontend", 10, calls={"GATEWAY_URL": "gateway"}),
]


def service(name: str) -> Service:
    """The service called `name`, such as "gateway"."""
    [found] = [s for s in SERVICES if s.name == name]
    return found
