#!/usr/bin/env bash
# Makes the virtual environment bench/compare_pytorch.py runs PyTorch from: the newest torch
# and numpy from PyPI, outside the build tree (large; never needed by builds or tests).
#   bench/make_torch_venv.sh            -> ~/.cache/ar1-torch-venv
#   AR1_TORCH_VENV=/path bench/make_torch_venv.sh
set -euo pipefail
venv="${AR1_TORCH_VENV:-$HOME/.cache/ar1-torch-venv}"
python="${PYTHON:-python3}"
if [[ ! -x "$venv/bin/python" ]]; then
  "$python" -m venv "$venv"
fi
"$venv/bin/pip" install --upgrade --quiet pip
"$venv/bin/pip" install --upgrade --quiet torch numpy
"$venv/bin/python" -c 'import torch; print("torch", torch.__version__, "threads", torch.get_num_threads())'
echo "venv ready: $venv (pass --python $venv/bin/python to bench/compare_pytorch.py if elsewhere)"
