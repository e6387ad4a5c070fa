"""Why a message is refused: the reasons docs/protocol.md § 14 counts, and the error that carries one."""

from enum import StrEnum


class RejectionReason(StrEnum):
    """The labels of `yz_messages_rejected_total`, in the order docs/protocol.md § 14 checks them:
    a refused message gets the first reason that applies."""

    BAD_TOPIC = "bad_topic"
    RATE_LIMITED = "rate_limited"
    UNREGISTERED_STATION = "unregistered_station"
    UNREGISTERED_DEVICE = "unregistered_device"
    TOO_LARGE = "too_large"
    NOT_JSON = "not_json"
    BAD_PAYLOAD = "bad_payload"


class PayloadError(ValueError):
    """A payload that docs/protocol.md says to reject. `reason` is the counter label.

    Decoders raise it for what arrives; builders raise it for what would not be accepted."""

    def __init__(self, reason: RejectionReason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail
