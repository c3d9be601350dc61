"""The figures show the registry's numbers: plotted data is recomputed and compared exactly."""

from __future__ import annotations

import numpy as np
import pytest

import actlab
from actlab import regions
from actlab.plotting import rows
from actlab.plotting._figure import save
from actlab.plotting.curves import function_figure, parse_gid
from actlab.plotting.seeds import SEED_FIGURES


def _curves(fig):
    """(name, order, params, x, y) of every registry curve drawn in ``fig``."""
    out = []
    for ax in fig.axes:
        for line in ax.get_lines():
            gid = line.get_gid()
            if gid and gid.count(":") >= 2 and gid.split(":", 1)[0] in actlab.names():
                name, order, params = parse_gid(gid)
                out.append((name, order, params, line.get_xdata(), line.get_ydata()))
    return out


def _assert_curves_match_registry(fig) -> int:
    curves = _curves(fig)
    for name, order, params, x, y in curves:
        expected = actlab.get(name).derivative(order)(np.asarray(x), **params)
        np.testing.assert_array_equal(y, expected, err_msg=f"{name} order {order} {params}")
    return len(curves)


@pytest.mark.parametrize("key", list(SEED_FIGURES))
def test_seed_figure_plots_the_registry_functions(key):
    fig = SEED_FIGURES[key].draw()
    if key == "softmax":
        (line,) = [ln for ln in fig.axes[0].get_lines() if ln.get_gid()]
        np.testing.assert_array_equal(line.get_xdata(), np.arange(-5.0, 6.0))
        np.testing.assert_array_equal(line.get_ydata(), actlab.softmax(np.arange(-5.0, 6.0)))
        return
    assert _assert_curves_match_registry(fig) >= 1


def test_seed_figures_draw_what_the_seeds_draw():
    drawn = {
        key: {(n, o, tuple(sorted(p.items()))) for n, o, p, *_ in _curves(f.draw())}
        for key, f in SEED_FIGURES.items()
        if key != "softmax"
    }
    assert drawn["sigmoid-vs-tanh"] == {("sigmoid", 0, ()), ("tanh", 0, ())}
    assert drawn["relu"] == {("relu", 0, ()), ("relu", 1, ())}
    assert drawn["tanh-grad"] == {("tanh", 1, ())}
    assert drawn["swish"] == {("swish", 0, (("beta", b),)) for b in (0.1, 1.0, 10.0)}
    assert drawn["softplus-mish"] == {("softplus", 0, ()), ("mish", 0, ())}


def test_sigmoid_derivative_figure_peaks_at_a_quarter_at_zero():
    fig = SEED_FIGURES["sigmoid-grad"].draw()
    ((_, _, _, x, y),) = _curves(fig)
    assert y.max() == 0.25
    assert x[np.argmax(y)] == 0.0


def test_swish_figure_uses_the_seed_axes():
    ax = SEED_FIGURES["swish"].draw().axes[0]
    assert ax.get_xlim() == (-5.0, 3.0)
    assert ax.get_ylim() == (-2.0, 3.0)
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["β=0.1", "β=1", "β=10"]


def test_parameter_family_and_orders_are_drawn_per_panel():
    fig = function_figure(["softplus", "elu"], families={"beta": [0.5, 2.0]}, x_range=(-3, 3))
    assert len(fig.axes) == 3
    drawn = {(n, o, tuple(p.items())) for n, o, p, *_ in _curves(fig)}
    for order in (0, 1, 2):
        assert ("softplus", order, (("beta", 0.5),)) in drawn
        assert ("softplus", order, (("beta", 2.0),)) in drawn
        assert ("elu", order, ()) in drawn
    assert _assert_curves_match_registry(fig) == 9


def _shaded_x(ax, colour):
    """x values covered by the fill_between collections of ``colour``."""
    from matplotlib.colors import to_rgba

    xs = []
    for coll in ax.collections:
        if np.allclose(coll.get_facecolor()[0], to_rgba(colour)):
            for path in coll.get_paths():
                xs.append(path.vertices[:, 0])
    return np.concatenate(xs) if xs else np.array([])


def test_dead_and_saturated_regions_are_shaded_where_the_registry_says():
    from actlab.plotting._figure import DEAD_COLOUR, SATURATED_COLOUR

    relu = function_figure(["relu6"], x_range=(-3, 9)).axes[0]
    dead = _shaded_x(relu, DEAD_COLOUR)
    assert dead.min() == -3
    assert dead.max() == 9
    assert not np.any((dead > 0.05) & (dead < 5.95))  # the live part 0 < x < 6 is clear
    sig = function_figure(["sigmoid"], x_range=(-8, 8)).axes[0]
    sat = _shaded_x(sig, SATURATED_COLOUR)
    assert sat.size
    assert np.all(np.abs(sat) >= 4.5)
    assert _shaded_x(function_figure(["leaky_relu"]).axes[0], SATURATED_COLOUR).size == 0


def test_regions_are_measured_from_the_derivative():
    assert regions.regions(actlab.get("relu")).describe() == "f′ = 0 for x < 0"
    assert regions.regions(actlab.get("leaky_relu")).describe() == "nowhere"
    sig = regions.regions(actlab.get("sigmoid"))
    (left, right) = sig.saturated
    # σ(1 − σ) = 0.01 where σ = (1 ± √0.96)/2, i.e. |x| = log((1 + √0.96)/(1 − √0.96)).
    edge = np.log((1 + np.sqrt(0.96)) / (1 - np.sqrt(0.96)))
    assert left.hi == pytest.approx(-edge, abs=2e-3)
    assert right.lo == pytest.approx(edge, abs=2e-3)


def test_kinks_are_marked_on_f():
    ax = function_figure(["relu6"], orders=(0,)).axes[0]
    markers = [ln for ln in ax.get_lines() if ln.get_marker() == "o"]
    assert sorted(float(m.get_xdata()[0]) for m in markers) == [0.0, 6.0]
    assert sorted(float(m.get_ydata()[0]) for m in markers) == [0.0, 6.0]


def _bars(ax):
    heights: dict[str, list[float]] = {}
    for patch in ax.patches:
        heights.setdefault(patch.get_gid(), []).append(patch.get_height())
    return heights


def test_softmax_view_plots_probabilities_and_temperatures():
    fig = rows.softmax_figure("softmax")
    z = rows.SEED_LOGITS
    bars = _bars(fig.axes[1])
    np.testing.assert_array_equal(bars["softmax:T=1"], actlab.softmax(z))
    lines = {ln.get_gid(): ln.get_ydata() for ln in fig.axes[2].get_lines() if ln.get_gid()}
    for t in rows.TEMPERATURES:
        np.testing.assert_array_equal(lines[f"softmax:T={t!r}"], actlab.softmax(z, temperature=t))
    # A higher temperature flattens the distribution.
    assert lines["softmax:T=5.0"].max() < lines["softmax:T=0.5"].max()


def test_log_softmax_view_plots_log_probabilities():
    fig = rows.softmax_figure("log_softmax", logits=[1.0, 2.0, 3.0])
    bars = _bars(fig.axes[1])
    np.testing.assert_array_equal(bars["log_softmax:T=1"], actlab.log_softmax([1.0, 2.0, 3.0]))


def test_cross_entropy_gradient_does_not_vanish_where_squared_error_does():
    fig = rows.loss_figure("cross_entropy")
    lines = {ln.get_gid(): ln for ln in fig.axes[1].get_lines() if ln.get_gid()}
    x = lines["cross_entropy_grad"].get_xdata()
    z = rows.margin_logits(x)
    target = np.zeros(len(x), dtype=np.int64)
    expected = actlab.cross_entropy_grad(z, target, reduction="none")[:, 0]
    np.testing.assert_array_equal(lines["cross_entropy_grad"].get_ydata(), expected)
    wrong = x < -6  # the true class is confidently wrong
    assert np.all(np.abs(lines["cross_entropy_grad"].get_ydata()[wrong]) > 0.99)
    assert np.all(np.abs(lines["mse_of_softmax_grad"].get_ydata()[wrong]) < 0.02)


def test_maxout_view_is_the_max_of_its_pieces():
    fig = rows.maxout_figure()
    lines = {ln.get_gid(): ln for ln in fig.axes[0].get_lines() if ln.get_gid()}
    pieces = np.stack([lines[f"piece:{i}"].get_ydata() for i in range(3)])
    np.testing.assert_array_equal(lines["maxout"].get_ydata(), pieces.max(axis=0))


@pytest.mark.parametrize("name", [e.name for e in actlab.entries() if e.kind != "elementwise"])
def test_every_row_entry_has_a_view(name):
    fig = rows.row_figure(name)
    assert any(ln.get_gid() for ax in fig.axes for ln in ax.get_lines())


@pytest.mark.parametrize(("suffix", "magic"), [(".png", b"\x89PNG"), (".svg", b"<?xml"),
                                                (".pdf", b"%PDF")])  # fmt: skip
def test_save_by_suffix(tmp_path, suffix, magic):
    path = save(function_figure(["tanh"], orders=(0,)), tmp_path / f"t{suffix}")
    assert path.read_bytes().startswith(magic)


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match=r"output: .*'\.jpg'"):
        save(function_figure(["tanh"]), "t.jpg")
    with pytest.raises(ValueError, match="names: softmax is a vector function"):
        function_figure(["softmax"])
    with pytest.raises(ValueError, match="families: none of tanh has a parameter 'beta'"):
        function_figure(["tanh"], families={"beta": [1.0]})
    with pytest.raises(ValueError, match="x_range"):
        function_figure(["tanh"], x_range=(1.0, -1.0))
    with pytest.raises(ValueError, match="orders"):
        function_figure(["tanh"], orders=(3,))
    with pytest.raises(ValueError, match="beta must be in"):
        function_figure(["softplus"], families={"beta": [-1.0]})
    with pytest.raises(ValueError, match="temperatures"):
        rows.softmax_figure("softmax", temperatures=(0.0,))
