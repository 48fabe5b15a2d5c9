# Shared by the scripts that install an engine into a venv of its own (install_vllm_server.sh,
# install_verl_env.sh). Source it after setting VENV and PYTHON.

pip_quiet() {
  # pip, minus the per-package "Location 'file:///...' is ignored" warnings that a machine-wide pip config
  # pointing at absent local indexes prints; real errors still show.
  "$VENV/bin/pip" "$@" 2> >(grep -v "is ignored: it is neither a file nor a directory" >&2)
}

new_venv() {
  # A fresh venv with a current pip; the torch index (SCIRESEARCHER_TORCH_INDEX) for machines whose pip cannot
  # already find the torch CPU wheel lands in the array TORCH_INDEX_ARGS for the caller's install line.
  "$PYTHON" -m venv "$VENV"
  pip_quiet install -q --upgrade pip
  TORCH_INDEX_ARGS=()
  if [ -n "${SCIRESEARCHER_TORCH_INDEX:-}" ]; then
    TORCH_INDEX_ARGS+=(--extra-index-url "$SCIRESEARCHER_TORCH_INDEX")
  fi
}
