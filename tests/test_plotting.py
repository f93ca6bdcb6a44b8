"""Figures: heatmaps from NumPy or MXNet arrays, token labels on attention
maps, readable ticks, curves with the seeds' spread."""

import matplotlib
import numpy as onp
import pytest
from mxnet import np

from seq2seq_attention.plotting import (
    plot_losses,
    plot_spread,
    show_attention,
    show_heatmaps,
)

matplotlib.use('Agg')


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    matplotlib.pyplot.close('all')


def test_heatmaps_accept_numpy_and_mxnet_arrays():
    for matrices in (
        onp.eye(3).reshape(1, 1, 3, 3),
        np.eye(3).reshape(1, 1, 3, 3),
    ):
        show_heatmaps(matrices, 'keys', 'queries')
        assert (
            len(matplotlib.pyplot.gcf().axes) == 2
        )  # the heatmap and its colour bar


def test_attention_map_labels_its_axes_with_tokens():
    show_attention(
        onp.full((2, 3), 1 / 3), ['i', 'lost', '<eos>'], ["j'ai", '<eos>']
    )
    ax = matplotlib.pyplot.gcf().axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == [
        'i',
        'lost',
        '<eos>',
    ]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["j'ai", '<eos>']
    with pytest.raises(ValueError, match=r'\(2, 2\)'):
        show_attention(onp.ones((2, 3)), ['a', 'b'], ['c', 'd'])


def test_spread_plot_over_epochs_has_whole_number_ticks():
    epochs = list(range(2, 21, 2))  # matplotlib's own ticks: 2.5, 5.0, ...
    plot_spread(epochs, {'a': [epochs]}, 'epoch', 'x')
    ax = matplotlib.pyplot.gcf().axes[0]
    assert all(float(v).is_integer() for v in ax.get_xticks())


def test_colour_bar_is_labelled():
    show_heatmaps(onp.eye(3).reshape(1, 1, 3, 3), 'keys', 'queries')
    assert matplotlib.pyplot.gcf().axes[-1].get_ylabel() == 'attention weight'


def test_long_attention_map_labels_every_few_tokens():
    tokens = [f't{i}' for i in range(26)]
    show_attention(onp.eye(26), tokens, tokens, max_labels=20)
    ax = matplotlib.pyplot.gcf().axes[0]
    # 26 tokens, at most 20 labels: every second one
    assert [t.get_text() for t in ax.get_xticklabels()] == tokens[::2]
    assert list(ax.get_yticks()) == list(range(0, 26, 2))


def test_loss_curves_are_labelled():
    plot_losses(
        [[3.0, 2.0, 1.0], [3.0, 1.5, 0.5]], labels=['plain', 'attention']
    )
    assert [
        t.get_text()
        for t in matplotlib.pyplot.gcf().axes[0].get_legend().get_texts()
    ] == ['plain', 'attention']


def test_loss_axis_labels_several_ticks_as_plain_numbers():
    plot_losses([[3.0, 1.0, 0.3, 0.2]])
    ax = matplotlib.pyplot.gcf().axes[0]
    ax.figure.canvas.draw()
    low, high = ax.get_ylim()
    labels = [
        t.get_text()
        for t, v in zip(ax.get_yticklabels(), ax.get_yticks())
        if low <= v <= high
    ]
    assert len(labels) >= 3 and all(lbl and '$' not in lbl for lbl in labels), (
        labels
    )


def test_spread_plot_draws_each_mean_and_a_band_from_lowest_to_highest_seed():
    seeds = [
        [1.0, 4.0, 2.0],
        [3.0, 2.0, 2.0],
        [2.0, 3.0, 5.0],
    ]  # 3 seeds x 3 points
    plot_spread(
        [0, 1, 2],
        {'a': seeds, 'b': [[1.0, 1.0, 1.0]] * 3},
        'length',
        'accuracy',
        xticklabels=['short', 'mid', 'long'],
    )
    ax = matplotlib.pyplot.gcf().axes[0]
    mean, _ = ax.get_lines()
    onp.testing.assert_allclose(mean.get_ydata(), [2.0, 3.0, 3.0])
    band = ax.collections[0].get_paths()[0].vertices
    assert band[:, 1].min() == 1.0 and band[:, 1].max() == 5.0
    assert [t.get_text() for t in ax.get_xticklabels()] == [
        'short',
        'mid',
        'long',
    ]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ['a', 'b']
    with pytest.raises(
        ValueError,
        match=r"curves\['a'\] must have one row per seed and 3 columns",
    ):
        plot_spread([0, 1, 2], {'a': [1.0, 2.0, 3.0]}, 'x', 'y')


def test_heatmap_positions_are_whole_numbers():
    show_heatmaps(onp.ones((1, 1, 2, 10)) / 10, 'keys', 'queries')
    ax = matplotlib.pyplot.gcf().axes[0]
    assert all(float(v).is_integer() for v in ax.get_xticks())
