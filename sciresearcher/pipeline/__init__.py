"""`sciresearcher pipeline RECIPE`: the stages of the data flow composed into one resumable run.

`recipe.py` is the typed recipe (one section per stage, built-in recipes in `recipes/`), `stages.py` the stages
(each calls the library code of its command), `runner.py` keys, skips, resumes and runs them, `plan.py` is
`--dry-run`'s estimate of model calls, tokens and cost. It sits beside `cli/` at the top of the layers
(docs/architecture.md): it imports the stages, nothing imports it but the command line.
"""
