"""Figures: PNG output, heatmaps from NumPy or MXNet arrays, token labels on attention maps."""
import matplotlib
import numpy as onp
import pytest
from mxnet import np

from seq2seq_attention.plotting import plot_losses, show_attention, show_heatmaps, show_source

matplotlib.use('Agg')


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    matplotlib.pyplot.close('all')


def test_heatmaps_accept_numpy_and_mxnet_arrays():
    for matrices in (onp.eye(3).reshape(1, 1, 3, 3), np.eye(3).reshape(1, 1, 3, 3)):
        show_heatmaps(matrices, 'keys', 'queries')
        assert len(matplotlib.pyplot.gcf().axes) == 2  # the heatmap and its colour bar


def test_attention_map_labels_its_axes_with_tokens():
    show_attention(onp.full((2, 3), 1 / 3), ['i', 'lost', '<eos>'], ["j'ai", '<eos>'])
    ax = matplotlib.pyplot.gcf().axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ['i', 'lost', '<eos>']
    assert [t.get_text() for t in ax.get_yticklabels()] == ["j'ai", '<eos>']
    with pytest.raises(ValueError, match=r'\(2, 2\)'):
        show_attention(onp.ones((2, 3)), ['a', 'b'], ['c', 'd'])


def test_loss_curves_and_source():
    plot_losses([[3.0, 2.0, 1.0], [3.0, 1.5, 0.5]], labels=['plain', 'attention'])
    assert [t.get_text() for t in matplotlib.pyplot.gcf().axes[0].get_legend().get_texts()] == \
        ['plain', 'attention']
    assert 'def plot_losses' in show_source(plot_losses).data
