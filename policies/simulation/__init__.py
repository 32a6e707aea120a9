"""The parts of :mod:`policies.simulator`: the run's inputs, the decider's view, the deciders and the outcome.

Import the public names from :mod:`policies` (or :mod:`policies.simulator`); these modules are split only to
keep each one small.
"""
