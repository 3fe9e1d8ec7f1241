"""A stranger cannot jam the line: a webhook whose signature cannot be right is refused before any
work that grows with its size, and a signature covers every value of the form."""

from __future__ import annotations

import time

from sqlalchemy import func, select

from models import Call, session
from tests.conftest import PUBLIC_BASE_URL
from tests.phone import ISABELLE

JUNK_FIELDS = b"&".join(b"f%d=" % i for i in range(90_000))  # ~700 kB: under a proxy's usual 1 MB


def _calls() -> int:
    return session.scalar(select(func.count()).select_from(Call)) or 0


def _cpu_of(send) -> tuple[int, float]:  # type: ignore[no-untyped-def]
    start = time.process_time()
    status = send()
    return status, time.process_time() - start


def test_a_junk_signed_flood_of_fields_is_refused_before_it_is_read(client, org):
    """Before: 1.8-2.4 s of CPU per request (the form parsed, three HMACs over 90,000 fields)."""
    for signature in ("abc", "Zm9yZ2Vk" * 3 + "abc=", "A" * 27 + "="):
        status, cpu = _cpu_of(
            lambda signature=signature: (
                client.post(
                    "/voice/incoming",
                    data=JUNK_FIELDS,
                    content_type="application/x-www-form-urlencoded",
                    headers={"X-Twilio-Signature": signature},
                ).status_code
            )
        )
        assert status == (403 if signature == "abc" else 413), signature
        assert cpu < 0.3, f"{cpu:.2f} s of CPU for a junk request signed {signature!r}"
    assert _calls() == 0


def test_a_well_signed_request_with_too_many_fields_is_refused(phone):
    """A signature on a body of 300 fields is not Twilio's (its webhooks carry a few dozen)."""
    params = {"CallSid": "CA" + "5" * 32, "From": ISABELLE, **{f"x{i}": "" for i in range(300)}}
    status, _ = phone.send("/voice/incoming", params)
    assert status == 403 and _calls() == 0


def test_a_real_call_is_still_answered(phone):
    call = phone.call(from_=ISABELLE)
    call.expect("numéro de requête")
    assert _calls() == 1


def test_a_second_value_of_a_signed_field_is_refused(phone, client):
    """The signature covers every value: a `From` added after Twilio's is not Twilio's (before, only
    the first value of each field was checked)."""
    params = {"CallSid": "CA" + "6" * 32, "From": ISABELLE, "To": "+33272646172"}
    signature = phone.validator.compute_signature(PUBLIC_BASE_URL + "/voice/incoming", params)
    body = "CallSid={CallSid}&From={From}&From=%2B33699999999&To={To}".format(
        **{k: v.replace("+", "%2B") for k, v in params.items()}
    )
    resp = client.post(
        "/voice/incoming",
        data=body,
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signature},
    )
    assert resp.status_code == 403 and _calls() == 0
    resp = client.post(
        "/voice/incoming",
        data=body.replace("&From=%2B33699999999", ""),
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": signature},
    )
    assert resp.status_code == 200 and _calls() == 1
