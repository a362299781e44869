"""Attention: masks, softmax rows, window = n is full attention, chunking, ops and memory."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core import attention, compute
from core.attention_maps import CHUNK, Maps, Variant, chunk_scores, compare, inputs, keep_mask, row_weights
from core.errors import InputError


def dense_reference(n, d, slope, seed, v):
    """Plain NumPy attention, the whole matrix at once, for cross-checking the chunked engine."""
    x = inputs(n, d, seed)
    i, j = np.indices((n, n))
    s = x @ x.T / np.sqrt(d) - slope * np.abs(i - j)
    s[j > i] = -np.inf
    keep = keep_mask(s, slice(0, n), v)
    w = np.where(keep, np.exp(s - s.max(axis=1, keepdims=True)), 0)
    return w / w.sum(axis=1, keepdims=True), x


@settings(max_examples=40, deadline=None)
@given(n=st.integers(2, 80), w=st.integers(0, 90), k=st.integers(1, 90), sinks=st.integers(0, 5),
       kind=st.sampled_from(["window", "topk", "sinks"]), slope=st.sampled_from([0.0, 0.05, 0.5]))
def test_rows_sum_to_one_and_masked_entries_are_exactly_zero(n, w, k, sinks, kind, slope):
    v = Variant(kind, w, k, sinks)
    maps = Maps.build(n, 8, slope, 1)
    for row in (0, n // 2, n - 1):
        full, variant = row_weights(maps, row, v)
        assert full.sum() == pytest.approx(1.0, abs=1e-6) and variant.sum() == pytest.approx(1.0, abs=1e-6)
        assert np.all(full[row + 1:] == 0) and np.all(variant[row + 1:] == 0)  # causal: exactly 0
        rows = slice(row, row + 1)
        kept = np.zeros(n, bool)
        kept[:row + 1] = keep_mask(chunk_scores(maps.x, rows, slope), rows, v)[0]
        assert np.all(variant[~kept] == 0)
        expected = {"window": min(w, row) + 1, "topk": min(k, row + 1),
                    "sinks": len(set(range(max(0, row - w), row + 1)) | set(range(min(sinks, row + 1))))}
        assert kept.sum() == expected[kind]


def test_window_n_equals_full_attention():
    maps = Maps.build(300, 16, 0.05, 3)
    c = compare(maps, Variant("window", 300))
    assert c.max_abs_diff == 0.0 and np.all(c.window_mass == pytest.approx(1.0))
    assert np.array_equal(c.image, maps.image)


def test_chunked_engine_matches_dense_numpy_across_chunk_edges():
    n = CHUNK + 77  # two chunks, the second partial
    for v in (Variant("window", 40), Variant("topk", k=9), Variant("sinks", 30, sinks=3)):
        maps = Maps.build(n, 16, 0.02, 5)
        ref, x = dense_reference(n, 16, 0.02, 5, v)
        c = compare(maps, v)
        assert np.allclose(c.image, ref, atol=1e-6)
        full_ref, _ = dense_reference(n, 16, 0.02, 5, Variant("window", n))
        assert c.max_abs_diff == pytest.approx(np.abs(ref @ x - full_ref @ x).max(), abs=1e-5)
        assert np.allclose(c.window_mass, (full_ref * (ref > 0)).sum(axis=1), atol=1e-6)


def test_scores_never_form_more_than_a_chunk():
    x = inputs(3000, 8, 0)
    s = chunk_scores(x, slice(1024, 1536), 0.1)
    assert s.shape == (512, 1536)  # rows of one chunk, keys up to its last row only


def test_large_n_is_binned_and_not_kept():
    maps = Maps.build(5000, 8, 0.05, 0, bins=1000)
    assert maps.exp is None and maps.bin == 5 and maps.image.shape == (1000, 1000)
    # binned rows still sum to one per query (block means x block width)
    assert np.allclose(maps.image.sum(axis=1) * 5, 1.0, atol=1e-4)


def test_ops_mla_and_kv_bytes_follow_the_rules():
    res = compute("attention", {"n": 64, "d": 32, "window": 16, "ops_ns": [8, 100],
                                "mla": {"n": 1000, "d": 64, "r": 32, "bytes_per_elem": 2},
                                "model": {"name": "Qwen2.5 7B"}, "context": 1000})
    assert res["ops"] == [{"n": 8, "full": 2 * 8 * 8 * 32, "windowed": 2 * 8 * 8 * 32},
                          {"n": 100, "full": 2 * 100 * 100 * 32, "windowed": 2 * 100 * 16 * 32}]
    assert res["mla"]["full_bytes"] == 1000 * 128 * 2 and res["mla"]["ratio"] == 4.0
    assert res["mla"]["roundtrip_error"] < 1e-12
    per = res["kv_bytes_per_token"]
    assert per["GQA"] == 2 * 28 * 4 * 128 * 2
    assert per["MHA"] == 7 * per["GQA"] and per["MQA"] == per["GQA"] // 4
    assert per["MLA"] == 28 * (512 + 64) * 2
    assert res["kv_bytes_at_context"]["GQA"] == 1000 * per["GQA"]


@pytest.mark.parametrize(("params", "message"), [
    ({"n": 1}, "params.n: must be >= 2"),
    ({"n": 10_000}, "params.n: must be <= 8192"),
    ({"variant": "sparse"}, "params.variant: must be one of"),
    ({"model": {"name": "custom", "heads": 8, "kv_heads": 16}},
     "params.model.kv_heads: 16 is more than heads"),
    ({"mla": {"d": 8, "r": 64}}, "params.mla.r: a latent rank above 2d"),
])
def test_bad_input_names_the_field(params, message):
    with pytest.raises(InputError, match=message):
        attention.Params.from_dict(params)


def test_window_sweep_converges_to_full():
    p = attention.Params(n=200, d=16)
    curve = attention.sweep(p, "window", [0, 10, 50, 199])
    assert curve["max_abs_diff"][-1] == 0.0 and curve["window_mass"][-1] == pytest.approx(1.0)
    assert np.all(np.diff(curve["window_mass"]) >= -1e-12)


def test_operation_counts_stay_exact_far_past_int64():
    res = compute("attention", {"n": 16, "d": 64, "window": 100, "ops_ns": [10**9]})
    assert res["ops"] == [{"n": 10**9, "full": 2 * 10**18 * 64, "windowed": 2 * 10**9 * 100 * 64}]


def test_a_change_that_keeps_the_variant_reuses_its_comparison():
    import dataclasses

    p = attention.Params(n=128)
    prepared = attention.prepare(p)
    first = attention.derive(prepared, p)
    moved = dataclasses.replace(p, row=5, log_color=True, context=4096)
    assert attention.derive(prepared, moved).comparison is first.comparison  # nothing recompared
    wider = dataclasses.replace(p, window=p.window + 1)
    again = attention.derive(prepared, wider)
    assert again.comparison is not first.comparison
    assert again.comparison.max_abs_diff == compare(prepared.maps, wider.as_variant()).max_abs_diff
    assert attention.derive(prepared, wider).to_dict() == attention.compute(wider).to_dict()


def test_slope_has_a_declared_maximum_and_no_accepted_slope_warns():
    """Issue 28: slope 1e300 exited 0 with four numpy RuntimeWarnings on stderr (inf - inf)."""
    import warnings

    with pytest.raises(InputError, match=rf"^params.slope: must be <= {attention.MAX_SLOPE:g}"):
        compute("attention", {"n": 64, "d": 16, "window": 8, "slope": 1e300})
    tiny = float(np.nextafter(0.0, 1.0))
    for n in (64, 1024):
        for slope in (0.0, tiny, 1e-300, 0.5, attention.MAX_SLOPE):
            with warnings.catch_warnings():
                warnings.simplefilter("error")  # a RuntimeWarning fails the test
                compute("attention", {"n": n, "d": 16, "window": 8, "slope": slope})


@pytest.mark.parametrize("kind", ["window", "sinks", "topk"])
def test_chunks_kept_whole_are_reused_bit_for_bit(kind):
    """A chunk every key of which a wide variant keeps is compared once; reusing it changes nothing."""
    n = 300
    reused, fresh = Maps.build(n, 16, 0.02, 0, bins=64), Maps.build(n, 16, 0.02, 0, bins=64)
    for width in (n, 120, 200):  # the widest first: its whole chunks are then reused
        v = Variant(kind, width, width, 4)
        a, b = compare(reused, v), compare(fresh, v)
        fresh.whole.clear()
        assert (a.max_abs_diff, a.relative_diff) == (b.max_abs_diff, b.relative_diff)
        for name in ("window_mass", "image", "kept"):
            assert np.array_equal(getattr(a, name), getattr(b, name))
    assert reused.whole  # the wide variant did keep whole chunks


def test_more_ops_lengths_than_the_limit_are_refused_naming_it():
    limit = attention.MAX_OPS_NS
    at_limit = list(range(1, limit + 1))
    assert attention.Params.from_dict({"ops_ns": at_limit}).ops_ns == tuple(at_limit)
    with pytest.raises(InputError, match=f"params.ops_ns: at most {limit:,} lengths, got {limit + 1:,}"):
        compute("attention", {"n": 16, "ops_ns": [*at_limit, limit + 1]})


def test_the_build_and_the_comparison_report_progress_through_compute():
    heard: list[float] = []
    res = compute("attention", {"n": 2048, "d": 16, "variant": "topk", "k": 64}, None, heard.append)
    assert heard == sorted(heard) and heard[-1] == 1.0
    assert any(f <= 0.5 for f in heard) and any(0.5 < f < 1 for f in heard)  # both halves, chunk by chunk
    assert res == compute("attention", {"n": 2048, "d": 16, "variant": "topk", "k": 64})


@pytest.mark.parametrize(("n", "bins", "variant"), [
    (300, 300, Variant("window", 20)), (300, 64, Variant("window", 20)), (200, 200, Variant("topk", k=5)),
    (200, 200, Variant("sinks", 10, sinks=3))])
def test_a_comparison_says_where_its_weights_may_be_non_zero(n, bins, variant):
    """``touched`` lets a display re-colour only a window's band: nothing lies outside it."""
    maps = Maps.build(n, 8, 0.02, 0, bins)
    c = compare(maps, variant)
    outside = np.ones(c.image.shape, bool)
    rows = 0
    for r0, r1, c0 in c.touched:
        assert r0 == rows and c0 >= 0
        rows = r1
        outside[r0:r1, c0:r1] = False
    assert rows == c.image.shape[0]
    assert not c.image[outside].any()
    band = [c0 for _r0, _r1, c0 in c.touched]
    if variant.kind == "window":
        assert max(band) > 0, "a window's band starts past column 0 on later rows"
    else:
        assert band == [0] * len(band)
