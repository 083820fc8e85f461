"""String ops and TfIdfVectorizer: hand-checkable values and errors that name the node."""
import os
import sys

import numpy as np
import pytest

from tinyinfer.errors import ModelError, RuntimeFailure

sys.path.insert(0, os.path.dirname(__file__))
from qtypes_helpers import run_node  # noqa: E402


def S(*items):
    a = np.empty(len(items), dtype=object)
    a[:] = items
    return a


def test_string_normalizer_removes_stopwords_then_changes_case():
    (y,) = run_node("StringNormalizer", [("x", S("Monday", "the", "THE", "sun"))],
                    case_change_action="UPPER", stopwords=["the"])
    assert y.tolist() == ["MONDAY", "SUN"]  # case-insensitive by default
    (y,) = run_node("StringNormalizer", [("x", S("the"))], stopwords=["the"])
    assert y.tolist() == [""]


def test_concat_split_regex():
    (z,) = run_node("StringConcat", [("x", S("a", "b")), ("y", S("!"))], opset=20)
    assert z.tolist() == ["a!", "b!"]
    y, n = run_node("StringSplit", [("x", S("a,b,c", "d"))], n_outputs=2, delimiter=",", opset=20)
    assert y.tolist() == [["a", "b", "c"], ["d", "", ""]] and n.tolist() == [3, 1]
    (m,) = run_node("RegexFullMatch", [("x", S("abc", "abcd"))], pattern="a.c", opset=20)
    assert m.tolist() == [True, False]


def test_tfidf_counts_unigrams_and_skip_bigrams():
    x = np.array([1, 2, 1, 3], np.int64)
    # pool: unigrams 1, 2; bigram (1, 3)  -> outputs 0, 1, 2
    (y,) = run_node("TfIdfVectorizer", [("x", x)], min_gram_length=1, max_gram_length=2,
                    max_skip_count=1, mode="TF", ngram_counts=[0, 2], ngram_indexes=[0, 1, 2],
                    pool_int64s=[1, 2, 1, 3])
    # 1 twice, 2 once; (1, 3) once (positions 2, 3); with skip 1 the pairs are (1, 1), (2, 3)
    assert y.tolist() == [2.0, 1.0, 1.0]


def test_errors_name_the_node():
    with pytest.raises(ModelError, match="RegexFullMatch.*not a valid regular expression"):
        run_node("RegexFullMatch", [("x", S("a"))], pattern="(", opset=20)
    with pytest.raises(RuntimeFailure, match="StringNormalizer.*expected"):
        run_node("StringNormalizer", [("x", np.empty((2, 2), object))])
