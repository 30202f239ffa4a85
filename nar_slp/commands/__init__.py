"""The ``nar-slp`` subcommands, one module per group; :mod:`nar_slp.cli` parses.

``common``    what every subcommand shares: its usage error, config, run folder
``build``     ``data`` and ``train``: filling a run folder
``generate``  ``generate``: signing sentences with a trained system or a bundle
``publish``   ``export`` and ``evaluate``: what a trained run hands on
"""
