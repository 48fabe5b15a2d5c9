"""The command line: `sciresearcher` and its command groups, the composition layer on top of every stage.

`app.py` mounts the groups (`ask`, `index`/`search`/`read`, `synth`, `data`, `train`, `eval`, `report`,
`sandbox`, `config`); each module here parses options, loads the typed config and calls library functions.
No library module imports this package. See docs/architecture.md.
"""

from sciresearcher.cli.app import app, main

__all__ = ["app", "main"]
