"""The ``nar-slp`` subcommands, one module per group; :mod:`nar_slp.cli` parses.

``common``    what every subcommand shares: its usage error, config, run folder and
              the checks of inputs and outputs (torch-free: ``--help`` imports it)
``build``     ``data`` and ``train``: filling a run folder
``generate``  ``generate``: signing sentences with a trained system or a bundle
``publish``   ``export`` and ``evaluate``: what a trained run hands on

:mod:`nar_slp.cli` imports ``build``, ``generate`` and ``publish`` only when their
command runs.
"""
