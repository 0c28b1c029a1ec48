#!/usr/bin/env bash
# Set up advisor in ./.venv: the right torch build for this machine, then advisor with its test extra.
#
#   * A Python that already has torch (a GPU box's CUDA build, say) keeps it: the venv is linked to it.
#   * Otherwise, on a machine with an NVIDIA driver, pip installs the default (CUDA) torch build.
#   * Otherwise the CPU-only build is installed, from PyTorch's CPU index (a local wheel or mirror is used when
#     pip is configured with one), so a machine without a GPU never downloads the multi-GB CUDA build.
#
# Usage: bash scripts/setup.sh            (PYTHON=python3.11 bash scripts/setup.sh to choose the interpreter)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
TORCH_VERSION=${ADVISOR_TORCH_VERSION:-2.13.0}
quiet=(-q --disable-pip-version-check)

if [ ! -x .venv/bin/python ]; then
  "$PY" -m venv .venv
  # Reuse a torch the creating interpreter already has (e.g. a CUDA build in a GPU image) instead of replacing it.
  if torch_dir=$("$PY" -c "import os, torch; print(os.path.dirname(os.path.dirname(torch.__file__)))" 2>/dev/null); then
    site=$(.venv/bin/python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
    echo "$torch_dir" > "$site/_advisor_host_torch.pth"
    echo "setup: using the torch that $PY already has ($torch_dir)"
  fi
fi

if ! .venv/bin/python -c "import torch" 2>/dev/null; then
  if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1; then
    echo "setup: NVIDIA driver found: installing the CUDA build of torch"
    .venv/bin/pip install "${quiet[@]}" "torch==${TORCH_VERSION}"
  else
    echo "setup: no GPU: installing the CPU-only build of torch ${TORCH_VERSION}"
    .venv/bin/pip install "${quiet[@]}" --timeout 20 --retries 1 \
      --index-url https://download.pytorch.org/whl/cpu "torch==${TORCH_VERSION}" \
      || .venv/bin/pip install "${quiet[@]}" "torch==${TORCH_VERSION}+cpu" \
      || .venv/bin/pip install "${quiet[@]}" "torch==${TORCH_VERSION}"
  fi
fi

# torch is already satisfied, so this installs only advisor's other dependencies and the test tools.
.venv/bin/pip install "${quiet[@]}" -e ".[test]"
.venv/bin/python -c "import torch, advisor; print('setup: advisor', advisor.__version__, '| torch', torch.__version__, '| cuda', torch.cuda.is_available())"
if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
  echo "setup: no chromium/chromedriver here: the web page's browser test will be skipped" \
       "(apt-get install chromium chromium-driver; CI installs them)"
fi
