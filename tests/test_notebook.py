"""The book's tooling: listings of the library's source, glued numbers."""

import ast
import inspect
from pathlib import Path

from seq2seq_attention.models import Seq2SeqEncoder
from seq2seq_attention.notebook import (
    glue,
    show_source,
    source_listing,
    spread_table,
)


def test_show_source_displays_the_listing_as_python():
    code = show_source(Seq2SeqEncoder.forward)
    assert code.data == source_listing(Seq2SeqEncoder.forward)
    assert code.data.startswith('# Seq2SeqEncoder.forward, in ')


def test_a_listing_shows_the_code_and_only_the_first_line_of_each_docstring():
    listing = source_listing(Seq2SeqEncoder.step_through)
    lines = listing.splitlines()
    assert lines[0] == (
        '# Seq2SeqEncoder.step_through, in seq2seq_attention/models.py'
    )
    assert lines[1].startswith('def step_through(self, F, rnn, X, valid_lens):')
    # the code itself, unindented and unchanged
    body = inspect.getsource(Seq2SeqEncoder.step_through).splitlines()
    assert (
        lines[-1]
        == body[-1][4:]
        == "            at_valid_lengths(F, cs, valid_lens))"
    )
    docstring = inspect.getdoc(Seq2SeqEncoder.step_through).splitlines()
    assert lines[2].strip() == f'"""{docstring[0]}"""'
    # a whole class: its docstring and every method's cut to one line
    listing = source_listing(Seq2SeqEncoder)
    assert inspect.getdoc(Seq2SeqEncoder).splitlines()[2] not in listing
    assert 'def forward(self, X, valid_lens=None):' in listing
    # four docstrings (the class's and its three methods'), one line each
    assert listing.count('"""') == 2 * 4
    assert all(
        line.count('"""') == 2 for line in listing.splitlines() if '"""' in line
    )


def test_glue_records_the_value_as_myst_nb_reads_it(monkeypatch):
    import IPython.display

    shown = []
    monkeypatch.setattr(
        IPython.display,
        'display',
        lambda *args, **kwargs: shown.append((args, kwargs)),
    )
    glue('num_pairs', 167130)
    (bundle,), kwargs = shown[0]
    # myst-nb pastes the text/plain under this prefix; nothing is displayed
    assert bundle == {'application/papermill.record/text/plain': '167130'}
    assert kwargs['raw'] is True
    assert kwargs['metadata'] == {
        'scrapbook': {
            'name': 'num_pairs',
            'mime_prefix': 'application/papermill.record/',
        }
    }


LIBRARY = Path(__file__).resolve().parents[1] / 'src' / 'seq2seq_attention'
MAX_COLUMNS = 80  # what a chapter's code box shows at 1280 px


def test_every_public_function_has_a_summary_that_a_listing_fits():
    """Every module opens with a docstring, every public class, function and
    method has one, and each summary, as a listing shows it (closed on its
    line), keeps to 80 columns (`ruff check` holds every line to 80)."""
    problems = []
    for path in sorted(LIBRARY.glob('*.py')):
        source = path.read_text(encoding='utf-8')
        lines = source.splitlines()
        tree = ast.parse(source)
        if not ast.get_docstring(tree):
            problems.append(f'{path.name}: no module docstring')
        # module-level classes and functions, and the classes' methods
        defined = [n for n in tree.body if isinstance(n, ast.ClassDef)]
        nodes = [
            n
            for n in tree.body + [m for c in defined for m in c.body]
            if isinstance(n, (ast.ClassDef, ast.FunctionDef))
        ]
        for node in nodes:
            docstring = ast.get_docstring(node)
            if not docstring:
                if not node.name.startswith('_'):
                    problems.append(
                        f'{path.name}: {node.name} has no docstring'
                    )
                continue
            first = lines[node.body[0].lineno - 1]
            indent = len(first) - len(first.lstrip())
            width = indent + len('""""""') + len(docstring.splitlines()[0])
            if width > MAX_COLUMNS:
                problems.append(
                    f'{path.name}:{node.body[0].lineno}: summary of '
                    f'{node.name} listed in {width} columns'
                )
    assert not problems, '\n'.join(problems)


def test_spread_table_prints_means_and_unambiguous_ranges():
    table = spread_table(
        {'attention': [[-0.35, 10.0], [0.05, 12.0], [-0.15, 14.0]]},
        ['alignment', 'BLEU'],
        2,
    )
    header, means, ranges = table.splitlines()
    assert header.split() == ['alignment', 'BLEU']
    assert means.split() == ['attention', '-0.15', '12.00']
    assert ranges.split(maxsplit=1) == [
        'range',
        '[-0.35, 0.05]  [10.00, 14.00]',
    ]
    # the columns line up under their names
    assert header.index('BLEU') + len('BLEU') == len(means) == len(ranges)


def test_spread_table_names_a_row_of_the_wrong_shape():
    import pytest

    with pytest.raises(ValueError, match=r"values\['plain'\].*2 columns"):
        spread_table({'plain': [[1.0], [2.0]]}, ['a', 'b'], 1)


def test_glue_spread_records_mean_and_ends(monkeypatch):
    from seq2seq_attention import notebook

    glued = {}
    monkeypatch.setattr(notebook, 'glue', glued.__setitem__)
    notebook.glue_spread('bleu', [1.0, 2.0, 4.5], 1)
    assert glued == {'bleu': 2.5, 'bleu_min': 1.0, 'bleu_max': 4.5}
