"""Webhook and MQTT delivery of alert notifications (docs/contract.md § Webhooks, § MQTT alert
topic), on a fake clock and fake receivers: the real outbox (SQLite in a temporary directory) and
`Deliverer`, with `httpx.MockTransport` standing in for the crews' servers. No real sleeps."""

import hashlib
import hmac
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
from yizhan.server.adapters.notify import Deliverer, backoff_s
from yizhan.server.adapters.sqlite.alert_store import AlertStore
from yizhan.server.domain.routing import Delivery

from tests.unit.fakes import T0, FakeClock, alert_transition

pytestmark = pytest.mark.fast

S = 1000
HOUR = 3600 * S
SECRETS = {"crew-signed": "s3cret"}


class Receivers:
    """The crews' webhook servers: each answers with its status (or not at all) and keeps what it took."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.answer: dict[str, int | str] = defaultdict(lambda: 200)  # by path; "silence": no answer
        self.tries: list[tuple[str, int, httpx.Request]] = []  # (path, time, request)
        self.taken: dict[str, list[int]] = defaultdict(list)  # path -> notification numbers, in order

    def handle(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        self.tries.append((path, self.clock.now, request))
        answer = self.answer[path]
        if answer == "silence":
            raise httpx.ReadTimeout("no answer within 10 s", request=request)
        if 200 <= int(answer) < 300:
            self.taken[path].append(orjson.loads(request.content)["n"])
        return httpx.Response(int(answer))

    def times(self, path: str) -> list[int]:
        return [t - T0 for p, t, _ in self.tries if p == path]


class Rig:
    def __init__(self, tmp: Path) -> None:
        self.clock = FakeClock(T0)
        self.store = AlertStore(tmp / "alerts.sqlite")
        self.receivers = Receivers(self.clock)
        self.broker_up = True
        self.published: list[tuple[str, int]] = []
        self.deliverer = Deliverer(
            self.store,
            self.mqtt_publish,
            SECRETS.get,
            now_ms=self.clock.now_ms,
            transport=httpx.MockTransport(self.receivers.handle),
        )
        self._n = 0

    def mqtt_publish(self, topic: str, body: bytes) -> bool:
        if self.broker_up:
            self.published.append((topic, orjson.loads(body)["n"]))
        return self.broker_up

    def notify(self, *targets: str) -> int:
        """One alert transition for each target (a crew id: its webhook; a topic with `/`: MQTT),
        stored in the outbox now. Returns its number (the alert id too)."""
        self._n += 1
        deliveries = [
            Delivery("mqtt", t) if "/" in t else Delivery("webhook", t, f"https://hooks.example/{t}")
            for t in targets
        ]
        body = orjson.dumps({"kind": "firing", "n": self._n})
        t = alert_transition(alert_id=self._n, at_ms=self.clock.now)
        self.store.record([(t, deliveries, None, [body] * len(deliveries))], self.clock.now)
        return self._n

    async def settle(self) -> None:
        """Every delivery the present moment allows (one per target per round, until none is due)."""
        for _ in range(1000):
            if not await self.deliverer.deliver_due():
                return
        raise AssertionError("deliveries still due after 1000 rounds")

    async def run_for(self, ms: int, step_ms: int = 250) -> None:
        """Let `ms` pass on the fake clock, delivering whatever falls due on the way."""
        end = self.clock.now + ms
        await self.settle()
        while self.clock.now < end:
            self.clock.now = min(end, self.clock.now + step_ms)
            await self.settle()

    def states(self, n: int) -> list[str]:
        return [d["state"] for d in self.store.deliveries(n)]


@pytest.fixture
async def rig(tmp_path: Path) -> Iterator[Rig]:
    r = Rig(tmp_path)
    yield r
    await r.deliverer.close()
    r.store.close()


def test_the_backoff_is_1_2_4_8_then_every_15_seconds():
    assert [backoff_s(failures) for failures in range(1, 9)] == [1, 2, 4, 8, 15, 15, 15, 15]


async def test_a_receiver_that_is_down_gets_everything_afterwards_in_order(rig: Rig):
    rig.receivers.answer["/crew-down"] = 503
    for _ in range(3):
        rig.notify("crew-down", "crew-up")
    await rig.run_for(60 * S)
    # the one that is up is not held back by the one that is down
    assert rig.receivers.taken["/crew-up"] == [1, 2, 3]
    assert rig.receivers.taken["/crew-down"] == []
    # only the oldest is retried: nothing behind it overtakes it
    tried = {r.headers["X-Yizhan-Delivery"] for p, _, r in rig.receivers.tries if p == "/crew-down"}
    assert len(tried) == 1
    rig.notify("crew-down")
    rig.receivers.answer["/crew-down"] = 200
    await rig.run_for(15 * S)
    assert rig.receivers.taken["/crew-down"] == [1, 2, 3, 4]
    assert all(rig.states(n) == ["delivered", "delivered"] for n in (1, 2, 3))


async def test_a_failed_delivery_is_retried_after_1_2_4_8_and_then_every_15_seconds(rig: Rig):
    rig.receivers.answer["/crew"] = 500
    rig.notify("crew")
    await rig.run_for(120 * S)
    assert rig.receivers.times("/crew") == [
        t * S for t in (0, 1, 3, 7, 15, 30, 45, 60, 75, 90, 105, 120)
    ]
    assert rig.states(1) == ["pending"]
    assert rig.deliverer.attempts_failed == 12 and rig.deliverer.delivered == 0


@pytest.mark.parametrize("answer", [200, 201, 202, 204])
async def test_any_2xx_answer_takes_the_delivery_at_the_first_try(rig: Rig, answer):
    rig.receivers.answer["/crew"] = answer
    rig.notify("crew")
    await rig.run_for(30 * S)
    assert rig.receivers.times("/crew") == [0]
    assert rig.states(1) == ["delivered"] and rig.deliverer.delivered == 1


@pytest.mark.parametrize("answer", [301, 400, 404, 429, 500, 503, "silence"])
async def test_an_error_status_or_no_answer_is_retried(rig: Rig, answer):
    rig.receivers.answer["/crew"] = answer
    rig.notify("crew")
    await rig.run_for(3 * S)
    assert rig.receivers.times("/crew") == [0, 1 * S, 3 * S]
    assert rig.states(1) == ["pending"]
    error = rig.store.deliveries(1)[0]["last_error"]
    assert ("ReadTimeout" if answer == "silence" else str(answer)) in error


async def test_a_delivery_is_given_up_24_hours_after_it_was_created_and_no_longer_holds_back_the_next(
    rig: Rig,
):
    rig.receivers.answer["/crew"] = 503
    rig.notify("crew")
    await rig.run_for(10 * S)
    rig.clock.now = T0 + 23 * HOUR
    rig.notify("crew")  # behind the first: waits for it
    # to 1 s before the first is 24 h old (in 15 s steps, the retry period by now): still retried
    await rig.run_for(HOUR - S, step_ms=15 * S)
    assert rig.states(1) == ["pending"] and rig.deliverer.given_up == 0
    assert rig.receivers.times("/crew")[-1] >= 24 * HOUR - 16 * S
    await rig.run_for(30 * S)
    assert rig.states(1) == ["failed"] and rig.deliverer.given_up == 1
    assert rig.receivers.times("/crew")[-1] > 24 * HOUR  # the last try came after the 24 h
    assert rig.states(2) == ["pending"]  # its own turn now, an hour old: retried, not given up
    rig.receivers.answer["/crew"] = 200
    await rig.run_for(15 * S)
    assert rig.receivers.taken["/crew"] == [2] and rig.states(2) == ["delivered"]


def signed(secret: str, body: bytes, header: str) -> bool:
    """docs/contract.md § Webhooks: how a receiver checks the signature, on the raw bytes."""
    expected = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(header, expected)


async def test_webhooks_carry_json_the_delivery_id_on_every_retry_and_the_crews_signature(rig: Rig):
    rig.receivers.answer["/crew-signed"] = 503
    rig.notify("crew-signed", "crew-unsigned")
    await rig.run_for(3 * S)
    rig.receivers.answer["/crew-signed"] = 200
    await rig.run_for(4 * S)
    signed_tries = [r for p, _, r in rig.receivers.tries if p == "/crew-signed"]
    assert len(signed_tries) == 4  # three refused, then taken
    assert len({r.headers["X-Yizhan-Delivery"] for r in signed_tries}) == 1  # for dropping duplicates
    for r in signed_tries:
        assert r.method == "POST" and r.headers["Content-Type"] == "application/json"
        assert signed("s3cret", r.content, r.headers["X-Yizhan-Signature"])
        assert not signed("another secret", r.content, r.headers["X-Yizhan-Signature"])
    [unsigned] = [r for p, _, r in rig.receivers.tries if p == "/crew-unsigned"]
    assert "X-Yizhan-Signature" not in unsigned.headers  # a crew without a secret
    assert unsigned.headers["X-Yizhan-Delivery"] != signed_tries[0].headers["X-Yizhan-Delivery"]


async def test_the_mqtt_alert_topic_gets_the_same_ordered_retry(rig: Rig):
    topic = "yz/alerts/shinan/st-1"
    rig.broker_up = False
    for _ in range(3):
        rig.notify(topic)
    await rig.run_for(20 * S)
    assert rig.published == [] and rig.states(1) == ["pending"]
    rig.broker_up = True
    await rig.run_for(15 * S)
    assert rig.published == [(topic, 1), (topic, 2), (topic, 3)]
