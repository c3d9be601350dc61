"""The row audit (softmax family, logsumexp, cross-entropy) against the mpmath references."""

import pytest

import actlab
from actlab.accuracy_rows import audit_rows, is_audited, to_markdown
from actlab.registry import Loss, Reduction, VectorFunction
from test_kernels_support import TIERS, on_tier

# What the row audit covers by default, which must be every vector and reduction entry.
ROW_ENTRIES = [e for e in actlab.entries() if is_audited(e)]


def test_every_vector_and_reduction_entry_isis_audited():
    covered = {e.name for e in ROW_ENTRIES}
    assert covered >= {
        e.name for e in actlab.entries() if isinstance(e, (VectorFunction, Reduction))
    }
    assert any(isinstance(e, Loss) for e in ROW_ENTRIES)


@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("entry", ROW_ENTRIES, ids=lambda e: e.name)
def test_row_audit_meets_the_bars(entry, tier):
    """On both tiers; the compiled row kernels take even these small blocks (on_tier)."""
    with on_tier(tier):
        rows = audit_rows([entry.name])
    assert {(r.dtype, r.what) for r in rows} >= {("float64", "f"), ("float32", "f")}
    failing = [r for r in rows if not r.passed]
    assert not failing, to_markdown(failing)


def test_row_audit_table_names_units_and_bars():
    rows = audit_rows(["softmax"], dtypes=["float64"])
    text = to_markdown(rows)
    assert "| softmax | float64 | f |" in text
    assert "| softmax | float64 | vjp |" in text
    assert [r.unit for r in rows] == ["ULP", "eps"]
    assert rows[0].bar == actlab.get("softmax").ulp_bar("float64", "f")


@pytest.mark.full
@pytest.mark.parametrize("tier", TIERS)
@pytest.mark.parametrize("entry", ROW_ENTRIES, ids=lambda e: e.name)
def test_full_row_audit_meets_the_bars(entry, tier):
    with on_tier(tier):
        failing = [r for r in audit_rows([entry.name], full=True) if not r.passed]
    assert not failing, to_markdown(failing)
