"""The raw snapshot: encoded item by item, in memory or staged on disk, always the same bytes."""

import hashlib
from datetime import date
from decimal import Decimal

import simplejson
from hypothesis import given, settings, strategies as st

from ledger_export.amili.fetch import RawPeriod
from ledger_export.amili.snapshot import INDEX, RESOURCES, dumps, list_chunks, load_snapshot, stage_snapshot
from ledger_export.core.files import StagedFile, publish, staging_folder
from ledger_export.core.period import Period

JUNE = Period(date(2025, 6, 1), date(2025, 6, 30), "2025-06")


def whole_document(value):
    """How the snapshot was encoded before it went item by item: the reference for the bytes."""
    text = simplejson.dumps(value, use_decimal=True, sort_keys=True, indent=1, ensure_ascii=False)
    return (text + "\n").encode("utf-8", errors="backslashreplace")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text()
    | st.decimals(allow_nan=False, allow_infinity=False, places=2),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8)


@settings(max_examples=80, deadline=None)
@given(st.lists(json_values, max_size=4))
def test_item_by_item_encoding_is_the_whole_document_byte_for_byte(items):
    assert b"".join(list_chunks(items)) == whole_document(items) == dumps(items)


def test_an_empty_list_and_a_lone_surrogate_encode_as_before():
    assert b"".join(list_chunks([])) == whole_document([]) == b"[]\n"
    assert b"".join(list_chunks([{"t": "\ud800\nx"}])) == whole_document([{"t": "\ud800\nx"}])


RAW = RawPeriod(
    creditor="686e6ed854377058c2dd10bd", period=JUNE, base_url="http://127.0.0.1:9",
    payouts=({"_id": "p1", "total_amount": Decimal("10.50"), "text": "Räkning ☃"},),
    specifications=tuple({"_id": f"s{n}", "amount": Decimal("1.25")} for n in range(3)),
    payments=(),
)


def test_a_staged_snapshot_holds_each_list_whole_and_an_index_that_vouches_for_it(tmp_path):
    with staging_folder(tmp_path) as folder:
        staged = stage_snapshot(RAW, folder)
        assert sorted(staged) == sorted([*RESOURCES.values(), INDEX])
        for attr, name in RESOURCES.items():
            assert staged[name].path.read_bytes() == whole_document(list(getattr(RAW, attr)))
        for name, file in staged.items():
            data = file.path.read_bytes()
            assert (file.size, file.sha256) == (len(data), hashlib.sha256(data).hexdigest())
        index = simplejson.loads(staged[INDEX].path.read_bytes())
        assert index["sha256"] == {name: staged[name].sha256 for name in RESOURCES.values()}
        assert index["counts"] == {"payouts": 1, "specifications": 3, "payments": 0}
    assert not folder.exists()  # the staging folder goes with the context, published or not


def test_a_published_staged_snapshot_reads_back_as_the_fetch(tmp_path):
    with staging_folder(tmp_path) as folder:
        staged = stage_snapshot(RAW, folder)
        publish(tmp_path / "2025-06", {f"raw/{n}": f for n, f in staged.items()} | {"a.si": b"x"}, staging=folder)
    back = load_snapshot(tmp_path / "2025-06")
    assert back == RAW
    assert sorted(p.name for p in tmp_path.iterdir()) == ["2025-06"]  # no staging folder left behind
    assert isinstance(staged[INDEX], StagedFile)
