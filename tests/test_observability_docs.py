"""DEPLOY.md's Prometheus configuration as Prometheus would read it: the scrape config and the
five alert rules are valid YAML, each rule's expression parses as PromQL, and every metric a
rule names is one the app exposes."""

from __future__ import annotations

import re
from typing import Any

import promql_parser
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from devtools.live import ROOT

pytestmark = pytest.mark.database_agnostic

YAML_BLOCK = re.compile(r"```yaml\n(.*?)```", re.DOTALL)
METRIC = re.compile(r"\b(blogapi_[a-z_]+)")
SAMPLES_OF = {"counter": ("_total",), "histogram": ("_bucket", "_count", "_sum"), "gauge": ("",)}


def deploy_yaml() -> list[Any]:
    """Every YAML block of DEPLOY.md, loaded."""
    text = (ROOT / "DEPLOY.md").read_text()
    return [yaml.safe_load(block) for block in YAML_BLOCK.findall(text)]


def alert_rules() -> list[dict[str, Any]]:
    """The alerting rules DEPLOY.md gives."""
    groups = [doc for doc in deploy_yaml() if isinstance(doc, dict) and "groups" in doc]
    assert len(groups) == 1
    return [rule for group in groups[0]["groups"] for rule in group["rules"]]


def test_the_scrape_config_names_the_metrics_path():
    [config] = [doc for doc in deploy_yaml() if isinstance(doc, dict) and "scrape_configs" in doc]
    [job] = config["scrape_configs"]
    assert job["metrics_path"] == "/metrics" and job["authorization"]["type"] == "Bearer"


def exposed_names(exposition: str) -> set[str]:
    """Every sample name the exposition's families have or would have once they have series."""
    return {
        family.name + suffix
        for family in text_string_to_metric_families(exposition)
        for suffix in SAMPLES_OF[family.type]
    }


def test_the_five_alerts_parse_as_promql_and_name_metrics_the_app_exposes(client):
    exposed = exposed_names(client.get("/metrics").get_data(as_text=True))
    rules = alert_rules()
    assert len(rules) == 5
    for rule in rules:
        promql_parser.parse(rule["expr"])  # raises on anything Prometheus would refuse
        for name in METRIC.findall(rule["expr"]):
            assert name in exposed, (rule["alert"], name)
