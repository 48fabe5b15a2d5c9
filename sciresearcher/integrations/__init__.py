"""Adapters to external engines: our tools, data and rewards in the shapes those engines load.

`verl/`: the agent's tools as verl tools, the tool config and the launch of a verl GRPO run. Nothing here is
imported by the package itself; an adapter's engine is imported only by the module that needs it.
See docs/architecture.md and docs/training.md.
"""
