"""Bibliography labels in the style of the citations: [Bahdanau et al., 2015].

The chapters cite author-year (`bibtex_reference_style: author_year`), but
pybtex's default labels are alphabetic codes ([BCB15]) that a reader cannot
match with "Bahdanau et al. (2015)". This Sphinx extension registers a
formatting style, `authoryear`, whose labels are the citations' own words;
_config.yml loads it (`local_extensions`) and selects it
(`bibtex_default_style`).
"""
import pybtex.plugin
from pybtex.style.formatting.unsrt import Style as UnsrtStyle
from pybtex.style.labels import BaseLabelStyle


def _last_names(person):
    """A person's last name as printed, braces and accents resolved."""
    return ' '.join(part.render_as('text') for part in
                    person.rich_prelast_names + person.rich_last_names)


class AuthorYearLabels(BaseLabelStyle):
    """Labels "Post, 2018", "Sutskever and Vinyals, 2014", "Cho et al., 2014"."""

    def format_labels(self, sorted_entries):
        for entry in sorted_entries:
            people = entry.persons.get('author') or entry.persons.get('editor')
            names = [_last_names(p) for p in people or []]
            if len(names) > 2:
                who = f'{names[0]} et al.'
            else:
                who = ' and '.join(names) or entry.key
            yield f"{who}, {entry.fields.get('year', 'n.d.')}"


class AuthorYearStyle(UnsrtStyle):
    """pybtex's unsrt style with author-year labels."""

    default_label_style = 'authoryear'


def setup(app):
    """Register the label style and the formatting style with pybtex."""
    pybtex.plugin.register_plugin('pybtex.style.labels', 'authoryear',
                                  AuthorYearLabels)
    pybtex.plugin.register_plugin('pybtex.style.formatting', 'authoryear',
                                  AuthorYearStyle)
    return {'parallel_read_safe': True, 'parallel_write_safe': True}
