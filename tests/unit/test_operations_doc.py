"""docs/operations.md keeps up with the code: every `YZ_*` variable the sources read is in its
configuration reference, and every `yz_…` metric the server defines is in it.

The expected lists come from the source text (and the fields of `Settings`); the document is
checked against them. Pure: reads files, starts nothing."""

import re
from pathlib import Path

from yizhan.server.config import Settings

REPO = Path(__file__).resolve().parents[2]
DOC = REPO / "docs" / "operations.md"
SOURCE_DIRS = ("server", "gateway", "yizhan", "device_sim")

ENV_NAME = re.compile(r"\bYZ_[A-Z][A-Z0-9_]*[A-Z0-9]")
# the first argument of a metric constructor: prometheus_client's Counter, Gauge, Histogram, … and
# the *MetricFamily classes of custom collectors
METRIC_DEFINITION = re.compile(
    r"\b(?:Counter|Gauge|Histogram|Summary|Info|Enum)(?:MetricFamily)?\(\s*[\"'](yz_[a-z0-9_]+)[\"']"
)
METRIC_NAME = re.compile(r"\byz_[a-z0-9_]+")
EXPORTED_SUFFIXES = ("", "_total", "_bucket", "_count", "_sum")


def sources(*dirs: str) -> list[Path]:
    return sorted(path for d in dirs for path in (REPO / d).rglob("*.py"))


def section(markdown: str, heading: str) -> str:
    """The text under a `## heading`, up to the next heading of the same level."""
    match = re.search(rf"^## {re.escape(heading)}\s*$(.*?)(?=^## |\Z)", markdown, re.M | re.S)
    assert match, f"docs/operations.md has no section '## {heading}'"
    return match.group(1)


def variables_in_sources() -> set[str]:
    found = {name for path in sources(*SOURCE_DIRS) for name in ENV_NAME.findall(path.read_text("utf-8"))}
    prefix = Settings.model_config.get("env_prefix", "")
    for name, field in Settings.model_fields.items():
        alias = field.validation_alias or field.alias
        found.add(alias.upper() if isinstance(alias, str) else (prefix + name).upper())
    return found


def metrics_in_server() -> set[str]:
    return {name for path in sources("server") for name in METRIC_DEFINITION.findall(path.read_text("utf-8"))}


def test_every_variable_the_code_reads_is_in_the_configuration_reference() -> None:
    expected = variables_in_sources()
    assert "YZ_MQTT_URL" in expected and "YZ_CONFIG" in expected, "the source scan finds the known ones"
    documented = set(ENV_NAME.findall(section(DOC.read_text("utf-8"), "Configuration reference")))
    missing = sorted(expected - documented)
    assert not missing, f"docs/operations.md 'Configuration reference' lacks: {', '.join(missing)}"


def test_every_server_metric_is_in_the_operations_doc() -> None:
    expected = metrics_in_server()
    assert len(expected) >= 20, f"the metric scan found only {sorted(expected)}"
    documented = set(METRIC_NAME.findall(DOC.read_text("utf-8")))
    missing = sorted(m for m in expected if not any(m + s in documented for s in EXPORTED_SUFFIXES))
    assert not missing, f"docs/operations.md lacks the metrics: {', '.join(missing)}"


def test_the_doc_names_no_variable_or_metric_the_code_does_not_have() -> None:
    text = DOC.read_text("utf-8")
    variables = variables_in_sources()
    unknown_vars = sorted(set(ENV_NAME.findall(text)) - variables)
    assert not unknown_vars, f"docs/operations.md names variables nothing reads: {', '.join(unknown_vars)}"
    exported = {m + s for m in metrics_in_server() for s in (*EXPORTED_SUFFIXES, "_created")}
    unknown_metrics = sorted(set(METRIC_NAME.findall(text)) - exported)
    listed = ", ".join(unknown_metrics)
    assert not unknown_metrics, f"docs/operations.md names metrics the server lacks: {listed}"
