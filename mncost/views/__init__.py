"""How results look: one module per result type, each with the tables and summary of its
result (its view model) and one function per output format.

Shared by every view (:mod:`mncost.views.formats`): the :class:`Format` choices, the one
markdown-table function, the one CSV writer and the one rich-to-text conversion, so a
table written to a file is exactly what a piped terminal shows. Views are pure functions
of a result; writing files is :mod:`mncost.output`'s job and choosing a view the CLI's.
"""
