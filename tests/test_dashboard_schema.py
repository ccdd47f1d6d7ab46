"""The dashboards, decoded strictly with the types of the Grafana Foundation SDK.

Grafana loads a dashboard with a misspelt field or a value of the wrong type without a
word, and the panel just looks wrong. tests/dashboard_schema is a small Go program that
decodes each dashboard with the SDK's `UnmarshalJSONStrict`, panel options and queries
included, and reports unknown fields and wrong types.
"""

import json
import subprocess
from pathlib import Path

import pytest

from tests.grafana_queries import DASHBOARDS, ROOT, load_dashboard

# A platform test (pyproject.toml): it needs Go: Grafana's schema, in tests/dashboard_schema.
pytestmark = pytest.mark.platform

PROGRAM = Path(__file__).resolve().parent / "dashboard_schema"


def check(*paths: Path) -> tuple[int, list[dict]]:
    """The exit status, and a report per file: {"path", "errors", "filledByGrafana"}.

    `go run` compiles the program once (half a minute or so: the SDK is large), then
    reuses the build from Go's cache.
    """
    run = subprocess.run(
        ["go", "run", ".", *map(str, paths)], cwd=PROGRAM, capture_output=True, text=True
    )
    if run.returncode not in (0, 1):  # 1 only says that a file has errors
        raise RuntimeError(f"dashboard_schema failed: {run.stderr}")
    return run.returncode, json.loads(run.stdout)


@pytest.mark.parametrize(
    "path", sorted(DASHBOARDS.glob("*.json")), ids=lambda path: str(path.relative_to(ROOT))
)
def test_the_dashboard_matches_grafanas_schema(path):
    status, [report] = check(path)
    # report["filledByGrafana"] lists required fields left out, such as a legend's calcs:
    # Grafana sets their defaults when it loads the dashboard, so they are no mistake.
    assert report["errors"] == []
    assert status == 0


def test_an_unknown_field_and_a_wrong_type_are_errors(tmp_path):
    dashboard = load_dashboard()
    dashboard["refresh"] = 10  # a wrong type: Grafana expects a string such as "10s"
    index, panel = next(
        (index, panel)
        for index, panel in enumerate(dashboard["panels"])
        if panel["type"] == "timeseries"
    )
    panel["targets"][0]["legendFormats"] = "{{service_name}}"  # a typo for legendFormat
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(dashboard))

    status, [report] = check(path)
    assert status == 1
    assert sorted(report["errors"]) == [
        f"panels[{index}].targets[0].Dataquery: unexpected field 'legendFormats'",
        "refresh: json: cannot unmarshal number into Go value of type string",
    ]
