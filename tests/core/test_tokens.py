import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from core.errors import InputError
from core.tokens import (
    WORD_PIECE,
    CachingCounter,
    CharEstimate,
    TokenCounter,
    WordEstimate,
    count_words,
    counter_for,
)


def test_word_estimate_rounds_half_to_even_like_python():
    words = WordEstimate()
    assert words.count("one two three four five") == 6  # 6.5 rounds to even
    assert words.count(" ".join(["w"] * 15)) == 20  # 19.5 rounds to even
    assert words.count("a  b\n\tc") == 4  # any whitespace separates words: 3.9 -> 4
    assert words.count("") == 0


def test_char_estimate_is_chars_over_four():
    assert CharEstimate().count("x" * 10) == 2  # 2.5 -> 2
    assert CharEstimate().count("x" * 14) == 4  # 3.5 -> 4


class CountingCounter:
    """A real counter that records how often it was asked."""

    name = "words"

    def __init__(self):
        self.asked = []

    def count(self, text):
        return self.count_many([text])[0]

    def count_many(self, texts):
        self.asked.extend(texts)
        return [len(t.split()) for t in texts]


def test_caching_counter_asks_once_per_distinct_text():
    inner = CountingCounter()
    cached = CachingCounter(inner)
    assert isinstance(cached, TokenCounter)
    assert cached.count_many(["a b", "c", "a b"]) == [2, 1, 2]
    assert cached.count_many(["c", "a b", "d e f"]) == [1, 2, 3]
    assert inner.asked == ["a b", "c", "d e f"]


def test_a_full_memo_still_answers_the_call_that_fills_it():
    """A packer with 4,096 parts, then 200 more, failed with KeyError: the memo was cleared
    for the new texts while the call still needed the old ones it had found there."""
    inner = CountingCounter()
    cached = CachingCounter(inner, max_entries=4)
    assert cached.count_many(["a", "b c", "d e f", "g"]) == [1, 2, 3, 1]
    assert cached.count_many(["a", "b c", "h i", "j k l m"]) == [1, 2, 2, 4]
    assert cached.count_many(["h i", "a"]) == [2, 1]  # the new ones were kept
    assert inner.asked == ["a", "b c", "d e f", "g", "h i", "j k l m", "a"]


def test_exact_without_a_counter_names_the_field():
    with pytest.raises(InputError, match=r"params\.estimator: 'exact' needs"):
        counter_for("exact")
    with pytest.raises(InputError, match=r"params\.estimator"):
        counter_for("bytes")
    assert counter_for("chars").name == "chars"


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(["a", "bc", " ", "\n", "\u00a0", "\u3000", "x\u2028y", "é"]), max_size=60),
       st.integers(1, 7))
def test_words_counted_piece_by_piece_equal_one_split(parts, piece):
    """Cut into pieces (so a window keeps running), the count equals ``len(text.split())``."""
    text = "".join(parts)
    assert count_words(text, piece) == len(text.split())


def test_a_long_text_is_counted_like_one_split():
    text = ("word " * 30_000 + "unbroken" * 20_000 + "\u00a0tail ") * 3
    assert len(text) > 3 * WORD_PIECE
    assert count_words(text) == len(text.split())
