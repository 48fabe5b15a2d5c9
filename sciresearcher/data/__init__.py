"""Data: teacher rollouts, task screening (decontamination, dedup), rejection sampling, TRL / verl exports.

Covers the arrows tasks -> trajectories -> kept -> datasets of the data flow (`sciresearcher data ...`). It does not
synthesize tasks (synth/) or train (train/).
"""
