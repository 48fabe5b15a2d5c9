"""verl (volcengine/verl) integration: multi-node agentic RL with our tools, data and reward.

- `tools.py`: `SearchTool`, `ReadTool`, `PythonTool` as `verl.tools.base_tool.BaseTool` subclasses (import verl;
  used inside verl's workers, installed by scripts/install_verl_env.sh);
- `recipe.py`: `VerlRecipe`, the typed recipe of a verl GRPO run, and what it renders: the tool config YAML
  verl's `initialize_tools_from_config` loads, and the hydra overrides of `verl.trainer.main_ppo`;
- `launch.py`: writes `tool_config.yaml`, `verl_config.yaml` and `command.sh` into a directory and runs it.

The dataset is `data export --format verl-rl` and the reward `sciresearcher/data/verl_reward.py:compute_score`.
"""
