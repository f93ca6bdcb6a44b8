"""Figures: PNG output, heatmaps from NumPy or MXNet arrays, token labels on
attention maps, readable ticks; the listings of library source; glued numbers."""
import inspect

import matplotlib
import numpy as onp
import pytest
from mxnet import np

from seq2seq_attention.models import Seq2SeqEncoder
from seq2seq_attention.plotting import (glue, plot_losses, plot_spread,
                                        show_attention, show_heatmaps,
                                        show_source, source_listing)

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


def test_loss_axis_labels_several_ticks_as_plain_numbers():
    plot_losses([[3.0, 1.0, 0.3, 0.2]])
    ax = matplotlib.pyplot.gcf().axes[0]
    ax.figure.canvas.draw()
    low, high = ax.get_ylim()
    labels = [t.get_text() for t, v in zip(ax.get_yticklabels(), ax.get_yticks())
              if low <= v <= high]
    assert len(labels) >= 3 and all(lbl and '$' not in lbl for lbl in labels), labels


def test_spread_plot_draws_each_mean_and_a_band_from_the_lowest_to_the_highest_seed():
    seeds = [[1.0, 4.0, 2.0], [3.0, 2.0, 2.0], [2.0, 3.0, 5.0]]  # 3 seeds x 3 points
    plot_spread([0, 1, 2], {'a': seeds, 'b': [[1.0, 1.0, 1.0]] * 3}, 'length', 'accuracy',
                xticklabels=['short', 'mid', 'long'])
    ax = matplotlib.pyplot.gcf().axes[0]
    mean, _ = ax.get_lines()
    onp.testing.assert_allclose(mean.get_ydata(), [2.0, 3.0, 3.0])
    band = ax.collections[0].get_paths()[0].vertices
    assert band[:, 1].min() == 1.0 and band[:, 1].max() == 5.0
    assert [t.get_text() for t in ax.get_xticklabels()] == ['short', 'mid', 'long']
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ['a', 'b']
    with pytest.raises(ValueError, match=r"curves\['a'\] must have one row per seed and 3 columns"):
        plot_spread([0, 1, 2], {'a': [1.0, 2.0, 3.0]}, 'x', 'y')


def test_heatmap_positions_are_whole_numbers():
    show_heatmaps(onp.ones((1, 1, 2, 10)) / 10, 'keys', 'queries')
    ax = matplotlib.pyplot.gcf().axes[0]
    assert all(float(v).is_integer() for v in ax.get_xticks())


def test_a_listing_shows_the_code_and_only_the_first_line_of_each_docstring():
    listing = source_listing(Seq2SeqEncoder.hybrid_forward)
    lines = listing.splitlines()
    assert lines[0] == ('# Seq2SeqEncoder.hybrid_forward, in '
                        'seq2seq_attention/models.py')
    assert lines[1].startswith('def hybrid_forward(self, F, X, valid_lens):')
    # the code itself, unindented and unchanged
    body = inspect.getsource(Seq2SeqEncoder.hybrid_forward).splitlines()
    assert lines[-1] == body[-1][4:] == '    return outputs, h, c'
    docstring = inspect.getdoc(Seq2SeqEncoder.hybrid_forward).splitlines()
    assert lines[2].strip() == f'"""{docstring[0]}"""'
    # a whole class: its docstring and every method's cut to one line
    listing = source_listing(Seq2SeqEncoder)
    assert inspect.getdoc(Seq2SeqEncoder).splitlines()[2] not in listing
    assert 'def forward(self, X, valid_lens=None, *args):' in listing
    # three docstrings (the class's, forward's, hybrid_forward's), one line each
    assert listing.count('"""') == 2 * 3
    assert all(line.count('"""') == 2 for line in listing.splitlines()
               if '"""' in line)


def test_glue_records_the_value_as_myst_nb_reads_it(monkeypatch):
    import IPython.display
    shown = []
    monkeypatch.setattr(IPython.display, 'display',
                        lambda *args, **kwargs: shown.append((args, kwargs)))
    glue('num_pairs', 167130)
    (bundle,), kwargs = shown[0]
    # myst-nb pastes the text/plain under this prefix; nothing is displayed
    assert bundle == {'application/papermill.record/text/plain': '167130'}
    assert kwargs['raw'] is True
    assert kwargs['metadata'] == {'scrapbook': {
        'name': 'num_pairs', 'mime_prefix': 'application/papermill.record/'}}
