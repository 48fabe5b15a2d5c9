"""SciResearcher: turn small language models into deep-research agents for biology and chemistry.

Layers, bottom to top, in the order data flows (docs/architecture.md; each imports only those below it):
records, errors, configs, run directories and task files (`records`, `errors`, `config`, `runs`, `tasks`);
the engines (`llm`, `sandbox`); `knowledge` (index, sources, evidence); the `agent` (loop and its tools);
`grade` (correctness); `rollout` (tasks x samples -> graded trajectories); the stages (`synth`, `data`, `train`,
`eval`); and the command line (`cli`). Heavy dependencies are imported inside the sub-packages that need
them, never here.
"""

__version__ = "0.1.0"
