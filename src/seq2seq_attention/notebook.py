"""For the book's pages: the library's source as listings, glued numbers.

A chapter shows the library's real code (`show_source`), so the book cannot
drift from it, and quotes computed numbers in its prose through `glue`, so the
prose cannot drift from the outputs (nbval compares both with the stored ones).
"""
import ast
import inspect
import textwrap

import numpy as onp


def source_listing(obj):
    """The source of a function, class or method as a chapter lists it.

    A method is shown unindented under a comment naming its class, and every
    docstring by its first line: the listing holds the idea, the library file
    the details. The text is the library's own, so it cannot drift.
    """
    lines = textwrap.dedent(inspect.getsource(obj)).splitlines()
    documented = [node for node in ast.walk(ast.parse('\n'.join(lines)))
                  if isinstance(node, (ast.ClassDef, ast.FunctionDef))
                  and ast.get_docstring(node)]
    # later docstrings first, so that earlier line numbers stay valid
    for node in sorted(documented, key=lambda n: -n.body[0].lineno):
        doc = node.body[0]
        first = lines[doc.lineno - 1]
        indent = first[:len(first) - len(first.lstrip())]
        quotes = first.lstrip()[:3]
        summary = ast.get_docstring(node).splitlines()[0]
        lines[doc.lineno - 1:doc.end_lineno] = [
            indent + quotes + summary + quotes]
    if '.' in obj.__qualname__:  # a method: say where it lives
        module = obj.__module__.replace('.', '/')
        lines.insert(0, f'# {obj.__qualname__}, in {module}.py')
    return '\n'.join(lines) + '\n'


def show_source(*objs):
    """Display the source of library functions, classes or methods.

    Each is listed as `source_listing` shows it: the book shows the real code.
    """
    from IPython.display import Code
    return Code('\n\n'.join(source_listing(obj) for obj in objs),
                language='python')


# The MIME prefix under which myst-nb finds a glued value (not displayed)
GLUE_MIME_PREFIX = 'application/papermill.record/'


def glue(name, value):
    """Record `value` for the chapter's text to quote as {glue:text}`name`.

    The output is that of myst-nb's `glue(name, value, display=False)`, without
    myst-nb, which Colab lacks: the number in the prose is the computed one, and
    nbval compares it with the stored one like any output.
    """
    from IPython.display import display
    display({GLUE_MIME_PREFIX + 'text/plain': repr(value)}, raw=True,
            metadata={'scrapbook': {'name': name,
                                    'mime_prefix': GLUE_MIME_PREFIX}})


def spread_table(values, columns, digits):
    """A table of means over seeds, each with its range `[lowest, highest]`.

    `values` maps a row's name to one list per seed, one number per column.
    Each row prints its means, and its ranges on the line below.
    """
    cells = []  # (row name, a string per column)
    for name, rows in values.items():
        rows = onp.asarray(rows, dtype=float)  # (seeds, columns)
        if rows.ndim != 2 or rows.shape[1] != len(columns):
            raise ValueError(f'values[{name!r}] must have one row per seed '
                             f'and {len(columns)} columns, got shape '
                             f'{rows.shape}')
        cells.append((name, [f'{x:.{digits}f}' for x in rows.mean(axis=0)]))
        cells.append(('  range', [f'[{lo:.{digits}f}, {hi:.{digits}f}]'
                                  for lo, hi in zip(rows.min(axis=0),
                                                    rows.max(axis=0))]))
    first = max(len(name) for name, _ in cells) + 1
    width = max(len(c) for c in columns + [c for _, r in cells for c in r]) + 2
    lines = [' ' * first + ''.join(c.rjust(width) for c in columns)]
    lines += [name.ljust(first) + ''.join(c.rjust(width) for c in row)
              for name, row in cells]
    return '\n'.join(line.rstrip() for line in lines)


def glue_spread(name, values, digits):
    """Glue the mean of `values` as `name`, its ends as `name_min`, `_max`."""
    for suffix, x in [('', sum(values) / len(values)), ('_min', min(values)),
                      ('_max', max(values))]:
        glue(name + suffix, round(float(x), digits))
