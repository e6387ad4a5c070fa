"""Who hears of an alert transition: docs/contract.md § Alerts › Routing and § Silences, in process."""

import pytest
from pydantic import ValidationError
from yizhan.server.domain.routing import CrewSpec, Silence, SilenceSpec, crew_secret, route

from tests.unit.fakes import T0, alert_transition

pytestmark = pytest.mark.fast

TOPIC = "yz/alerts/shinan/st-1"
HOUR = 3_600_000

# docs/contract.md § Routing, row by row: does the transition go to the crews (`role: crew`) of
# the alert's district, to the district's operators (`role: operators`), to the MQTT alert topic?
ROUTING = {
    "firing": (True, False, True),
    "reminder": (True, False, False),
    "acknowledged": (True, False, True),
    "resolved": (True, False, True),
    "escalated": (True, True, True),
}


def crew(
    districts: list[str], role: str = "crew", hook: str | None = "x", secret: str | None = None
) -> CrewSpec:
    url = f"https://hooks.example/{hook}" if hook else None
    return CrewSpec(name="维修组", districts=districts, webhook_url=url, role=role, secret=secret)


CREWS = {
    "crew-shinan": crew(["shinan", "shibei"], hook="crew-shinan"),
    "crew-all": crew(["*"], hook="crew-all"),
    "crew-licang": crew(["licang"], hook="crew-licang"),
    "crew-no-hook": crew(["shinan"], hook=None),
    "ops-shinan": crew(["shinan"], role="operators", hook="ops-shinan"),
    "ops-all": crew(["*"], role="operators", hook="ops-all"),
    "ops-licang": crew(["licang"], role="operators", hook="ops-licang"),
}


def heard(kind: str, district: str = "shinan", silences: list[Silence] | None = None, **alert) -> set:
    deliveries, silence = route(
        alert_transition(kind, district=district, **alert), CREWS, TOPIC, silences or [], T0
    )
    assert silence is None
    return {(d.channel, d.target) for d in deliveries}


@pytest.mark.parametrize("kind", ROUTING)
def test_each_transition_reaches_whom_the_routing_table_says(kind):
    crews, operators, mqtt = ROUTING[kind]
    want = set()
    if crews:  # the district's crew and the crew of every district; not licang's, not a crew without a hook
        want |= {("webhook", "crew-shinan"), ("webhook", "crew-all")}
    if operators:
        want |= {("webhook", "ops-shinan"), ("webhook", "ops-all")}
    if mqtt:
        want.add(("mqtt", TOPIC))
    assert heard(kind) == want


def test_a_crew_covers_every_district_it_lists_and_star_covers_all():
    assert ("webhook", "crew-shinan") in heard("firing", district="shibei")
    assert {t for c, t in heard("escalated", district="jimo") if c == "webhook"} == {"crew-all", "ops-all"}
    assert {t for c, t in heard("escalated", district="licang") if c == "webhook"} == {
        "crew-all",
        "crew-licang",
        "ops-all",
        "ops-licang",
    }


def test_a_webhook_goes_to_the_crews_own_url_and_mqtt_to_the_alert_topic():
    deliveries, _ = route(alert_transition("firing"), CREWS, TOPIC, [], T0)
    urls = {d.target: d.url for d in deliveries if d.channel == "webhook"}
    assert urls == {"crew-shinan": "https://hooks.example/crew-shinan", "crew-all": "https://hooks.example/crew-all"}
    assert [d.target for d in deliveries if d.channel == "mqtt"] == [TOPIC]


def test_with_no_crews_the_state_changes_still_go_to_the_mqtt_alert_topic():
    deliveries, _ = route(alert_transition("resolved"), {}, TOPIC, [], T0)
    assert [(d.channel, d.target) for d in deliveries] == [("mqtt", TOPIC)]
    assert route(alert_transition("reminder"), {}, TOPIC, [], T0) == ([], None)


def silence(
    station: str | None = None,
    district: str | None = None,
    rule: str | None = None,
    starts: int = T0 - HOUR,
    ends: int = T0 + HOUR,
) -> Silence:
    return Silence(7, station, district, rule, starts, ends, "调度", "计划检修")


@pytest.mark.parametrize(
    "held",
    [
        silence(station="st-1"),
        silence(district="shinan"),
        silence(rule="fault:leak"),
        silence(rule="fault"),  # `fault` covers every fault:<code>
        silence(station="st-1", rule="fault"),
        silence(station="st-1", district="shinan", rule="fault:leak"),
    ],
)
@pytest.mark.parametrize("kind", ROUTING)
def test_a_silence_in_force_holds_back_every_notification_and_is_named(held, kind):
    assert route(alert_transition(kind), CREWS, TOPIC, [held], T0) == ([], held)


@pytest.mark.parametrize(
    "other",
    [
        silence(station="st-2"),
        silence(district="licang"),
        silence(rule="fault:dry_boil"),
        silence(rule="device_offline"),
        silence(station="st-1", rule="device_offline"),  # every named part must match
        silence(station="st-2", district="shinan"),
    ],
)
def test_a_silence_of_something_else_lets_notifications_through(other):
    assert heard("firing", silences=[other]) == heard("firing")


def test_fault_silences_do_not_cover_the_other_rules():
    battery = {"rule": "battery_low", "device": "door"}
    assert heard("firing", silences=[silence(rule="fault")], **battery) == heard("firing", **battery)


def test_a_silence_holds_from_its_start_until_its_end():
    held = silence(station="st-1", starts=T0, ends=T0 + HOUR)
    t = alert_transition("firing")
    assert route(t, CREWS, TOPIC, [held], T0 - 1)[1] is None
    assert route(t, CREWS, TOPIC, [held], T0)[1] is held
    assert route(t, CREWS, TOPIC, [held], T0 + HOUR - 1)[1] is held
    assert route(t, CREWS, TOPIC, [held], T0 + HOUR)[1] is None  # ended


def test_a_silence_names_a_station_a_district_or_a_rule():
    with pytest.raises(ValidationError, match="names a station, a district or a rule"):
        SilenceSpec(ends_at="2026-03-02T18:00:00", by="调度")
    assert SilenceSpec(rule="fault", ends_at="2026-03-02T18:00:00", by="调度").rule == "fault"


@pytest.mark.parametrize(
    "body",
    [
        {"name": "x", "districts": ["Bad District"]},
        {"name": "x", "districts": []},
        {"name": "x", "districts": ["shinan"], "role": "boss"},
        {"name": "x", "districts": ["shinan"], "webhook_url": "not a url"},
        {"name": "", "districts": ["shinan"]},
    ],
)
def test_a_crew_body_needs_district_ids_or_star_and_a_known_role(body):
    with pytest.raises(ValidationError):
        CrewSpec.model_validate(body)


def test_a_crews_webhooks_are_signed_with_its_own_secret_if_it_has_one():
    crews = {"a": crew(["shinan"], secret="s3cret"), "b": crew(["shinan"])}
    assert crew_secret(crews, "a") == "s3cret"
    assert crew_secret(crews, "b") is None
    assert crew_secret(crews, "gone") is None  # a crew removed while its deliveries wait
