"""/conversion has no idempotency key: an unknown outcome is never retried in-process."""

from __future__ import annotations

import httpx
import pytest
from nomi_fake import FakeNomi, fail, ok

from nomi_client import NomiClient
from nomi_client.errors import AmbiguousSendError

CONVERSION = "/conversion"


@pytest.mark.parametrize(
    "failure",
    [fail(500), fail(503), httpx.ReadTimeout("timed out"), httpx.ReadError("connection reset by peer")],
    ids=["500", "503", "read-timeout", "reset"],
)
def test_record_conversion_unknown_outcome_raises_ambiguous_after_one_request(
    client: NomiClient, fake: FakeNomi, failure: httpx.Response | Exception
) -> None:
    fake.on(CONVERSION, failure, ok())
    with pytest.raises(AmbiguousSendError):
        client.record_conversion(id="AAAAAA", amount="10.00")
    assert len(fake.calls(CONVERSION)) == 1


@pytest.mark.parametrize(
    "failure", [fail(429), httpx.ConnectError("refused")], ids=["429", "connect-refused"]
)
def test_record_conversion_failure_before_nomi_acted_is_retried(
    client: NomiClient, fake: FakeNomi, failure: httpx.Response | Exception
) -> None:
    fake.on(CONVERSION, failure, ok())
    client.record_conversion(id="AAAAAA", amount="10.00")
    assert len(fake.calls(CONVERSION)) == 2
