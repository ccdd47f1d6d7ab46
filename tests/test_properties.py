"""Property-based tests (Hypothesis) of what parses untrusted text: the input parsers
(common/inputs.py), the budget header between services (common/deadline.py), and the
upstream contracts (common/contracts.py). Whatever arrives, each either accepts it in
range or refuses it with its own error, never another exception."""

import contextlib
import json
import math
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common import contracts, inputs
from common.deadline import BUDGET_HEADER, Deadline
from common.upstream import MAX_PASSED_ON_MESSAGE, _error_message
from webapp.answer import Answer

# Text as it arrives in a query string or a form: any character, with a bias towards
# those of numbers and of the tricks played with them.
NUMBER_LIKE = st.text(st.sampled_from("0123456789+-.eE_ ,\t\u2003\u00a0٤５½xn") | st.characters())
LATITUDES = st.floats(-90, 90)
LONGITUDES = st.floats(-180, 180)


@given(raw=NUMBER_LIKE)
def test_a_coordinate_is_a_plain_decimal_in_range_or_refused(raw):
    try:
        value = inputs.coordinate(raw, "latitude", 90)
    except inputs.InvalidInputError:
        return
    assert -90 <= value <= 90
    digits = raw.strip(" \t").lstrip("+-")
    assert set(digits) <= set("0123456789.")
    assert not digits.startswith(".") and not digits.endswith(".")
    assert digits == "0" or not digits.startswith("0") or digits.startswith("0.")


@given(value=LATITUDES | LONGITUDES)
def test_what_the_gateway_sends_the_iss_service_reads_back(value):
    sent = inputs.plain_decimal(value)

    assert math.isclose(inputs.coordinate(sent, "longitude", 180), value, abs_tol=1e-7)


@given(value=st.floats(allow_nan=False, allow_infinity=False))
def test_exponents_are_refused(value):
    with pytest.raises(inputs.InvalidInputError):
        inputs.coordinate(format(value, "e"), "longitude", 180)


@given(raw=st.text())
def test_a_place_name_is_short_printable_text_or_refused(raw):
    try:
        name = inputs.place_name(raw)
    except inputs.InvalidInputError:
        return
    assert name == name.strip() and name
    assert len(name) <= inputs.MAX_PLACE_NAME_CHARACTERS
    assert len(name.encode("utf-8")) <= inputs.MAX_PLACE_NAME_BYTES
    assert not any(unicodedata.category(c) in {"Cc", "Cs"} for c in name)
    assert not set(name) & inputs.BIDI_CONTROLS


@given(raw=st.text())
def test_what_the_form_shows_back_has_nothing_place_name_refuses_for_its_characters(raw):
    shown = inputs.shown(raw)

    assert len(shown) <= inputs.MAX_PLACE_NAME_CHARACTERS
    assert not set(shown) & inputs.BIDI_CONTROLS
    assert not any(unicodedata.category(c) in {"Cc", "Cs"} for c in shown)


OWN_BUDGET = 5.0


@given(header=st.none() | st.text() | st.integers(0, 10**12).map(str))
def test_a_budget_header_never_raises_nor_extends_the_budget(header):
    deadline = Deadline.from_header(header, OWN_BUDGET)

    assert 0 <= deadline.remaining() <= OWN_BUDGET


@given(milliseconds=st.integers(0, 9_999_999))
def test_a_budget_in_milliseconds_is_honoured_up_to_the_services_own(milliseconds):
    remaining = Deadline.from_header(str(milliseconds), OWN_BUDGET).remaining()

    assert remaining == pytest.approx(min(milliseconds / 1000, OWN_BUDGET), abs=0.05)


@given(seconds=st.floats(0, 60))
def test_the_next_service_is_told_less_than_its_caller_waits(seconds):
    caller = Deadline(seconds)
    told = caller.header_for_call()[BUDGET_HEADER]

    callee = Deadline.from_header(told, own_budget=3600)
    assert callee.remaining() <= max(0.0, caller.for_call())


# --- The upstream contracts -------------------------------------------------------------

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=5)
    ),
    max_leaves=20,
)
NAMES = st.text(min_size=1, max_size=contracts.MAX_NAME_LENGTH)
PLACES = st.fixed_dictionaries(
    {"name": NAMES, "latitude": LATITUDES, "longitude": LONGITUDES,
     "source": st.sampled_from(["nominatim", "gazetteer"])}
)  # fmt: skip
LOCATIONS = st.fixed_dictionaries({"latitude": LATITUDES, "longitude": LONGITUDES})
DISTANCES = st.floats(0, contracts.MAX_SURFACE_DISTANCE_KM)
ISS_LIVE = st.fixed_dictionaries(
    {"distance": DISTANCES, "location": LOCATIONS, "source": st.just("api"), "time": NAMES}
)
ISS_OFFLINE = st.fixed_dictionaries(
    {"distance": DISTANCES, "location": LOCATIONS, "source": st.just("sgp4"), "time": NAMES,
     "tle_age_days": st.integers(0, contracts.MAX_TLE_AGE_DAYS)}
)  # fmt: skip
GATEWAY_ANSWERS = st.fixed_dictionaries({"place": PLACES, "iss": ISS_LIVE | ISS_OFFLINE})

CHECKS = [contracts.check_place, contracts.check_iss, contracts.check_gateway_answer]


@pytest.mark.parametrize("check", CHECKS)
@given(answer=JSON)
def test_any_json_is_accepted_as_is_or_refused_with_a_contract_error(check, answer):
    with contextlib.suppress(contracts.ContractError):
        assert check(answer) is answer


@given(answer=GATEWAY_ANSWERS, field=st.sampled_from(["place", "iss"]), data=st.data())
def test_any_one_field_replaced_by_any_json_is_accepted_or_refused(answer, field, data):
    key = data.draw(st.sampled_from(sorted(answer[field])))
    answer[field][key] = data.draw(JSON)
    try:
        accepted = contracts.check_gateway_answer(answer)
    except contracts.ContractError:
        return
    # Whatever passed is still something the page can show.
    shown = Answer.from_gateway(accepted)
    assert math.isfinite(shown.distance_km) and -90 <= shown.place.latitude <= 90


@given(answer=GATEWAY_ANSWERS)
def test_every_valid_answer_passes_through_json_and_reaches_the_page(answer):
    received = json.loads(json.dumps(answer))

    shown = Answer.from_gateway(contracts.check_gateway_answer(received))

    assert 0 <= shown.distance_km <= contracts.MAX_SURFACE_DISTANCE_KM
    assert -180 <= shown.iss.longitude <= 180


@given(body=st.binary(max_size=400) | JSON.map(lambda v: json.dumps({"error": v}).encode()),
       status=st.sampled_from([400, 404, 502, 503, 504]))  # fmt: skip
def test_an_upstream_error_message_is_short_text_or_ours(body, status):
    message = _error_message(body, "gateway", status)

    assert isinstance(message, str) and 0 < len(message) <= MAX_PASSED_ON_MESSAGE
