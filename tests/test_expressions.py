"""XLSForm expressions evaluated over whole columns, with ODK's XPath semantics."""

import pandas as pd
import pytest
from hypothesis import given, strategies as st

from research_kit.errors import FormError
from research_kit.forms.expressions import evaluate, referenced_fields


@pytest.fixture
def df():
    return pd.DataFrame({
        "age": ["17", "30", "", "45"],
        "res": ["positive", "negative", "", "no_answer"],
        "sv": ["condoms prep", "", "none", "condoms"],
        "coupon": ["123", "12a", "", "99999"],
    })


def test_blank_is_not_equal_to_a_value(df):
    assert evaluate("${res} != 'positive'", df).tolist() == [False, True, True, True]
    assert evaluate("${res} = 'positive'", df).tolist() == [True, False, False, False]


def test_numeric_comparison_with_blank_is_false(df):
    assert evaluate("${age} >= 18", df).tolist() == [False, True, False, True]
    assert evaluate("${age} < 25", df).tolist() == [True, False, False, False]


def test_selected_and_count_selected(df):
    assert evaluate("selected(${sv}, 'condoms')", df).tolist() == [True, False, False, True]
    assert evaluate("count-selected(${sv}) >= 2", df).tolist() == [True, False, False, False]
    assert evaluate("not(selected(., 'none') and count-selected(.) > 1)", df, current="sv").all()


def test_regex_constraint(df):
    assert evaluate("regex(., '^[0-9]{3,6}$')", df, current="coupon").tolist() == [True, False, False, True]


def test_if_and_arithmetic(df):
    assert evaluate("if(${age} < 25, 'u25', '25plus')", df).tolist() == ["u25", "25plus", "25plus", "25plus"]
    out = evaluate("${age} - 12", df)
    assert out.iloc[1] == 18 and pd.isna(out.iloc[2])


def test_precedence_of_and_over_or(df):
    got = evaluate("${res} = 'positive' or ${res} = 'negative' and ${age} > 40", df).tolist()
    assert got == [True, False, False, False]


def test_referenced_fields():
    assert referenced_fields("${a} = 'x' and selected(${b}, 'y')") == {"a", "b"}


@pytest.mark.parametrize("bad", ["${a} = ", "${a} = 'x", "frobnicate(${a})", "(${a} = 1"])
def test_malformed_expressions_are_clear_errors(bad):
    with pytest.raises(FormError):
        evaluate(bad, pd.DataFrame({"a": ["1"]}))


def test_unknown_field_is_an_error():
    with pytest.raises(FormError, match=r"\$\{zz\}"):
        evaluate("${zz} = 1", pd.DataFrame({"a": ["1"]}))


@given(st.lists(st.one_of(st.just(""), st.integers(0, 120).map(str)), min_size=1, max_size=30), st.integers(0, 120))
def test_numeric_comparisons_match_python(values, k):
    frame = pd.DataFrame({"x": values})
    got = evaluate(f"${{x}} >= {k}", frame).tolist()
    assert got == [v != "" and int(v) >= k for v in values]
    got_ne = evaluate(f"${{x}} != {k}", frame).tolist()
    assert got_ne == [v == "" or int(v) != k for v in values]


@given(st.lists(st.sets(st.sampled_from(["a", "b", "c", "none"])), min_size=1, max_size=20))
def test_selected_matches_set_membership(selections):
    frame = pd.DataFrame({"s": [" ".join(sorted(s)) for s in selections]})
    assert evaluate("selected(${s}, 'b')", frame).tolist() == ["b" in s for s in selections]
    assert evaluate("count-selected(${s})", frame).tolist() == [float(len(s)) for s in selections]
