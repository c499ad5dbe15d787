#!/usr/bin/env bash
# The CUDA path in one short run: the device-aware tests, then the codec and engine benchmarks on the GPU
# (fp32/fp16/bf16, batch 1-8), all into OUTPUT_DIR/gpu_check.txt. Needs torch with CUDA, numpy, safetensors,
# transformers, pyyaml, tqdm, pillow, pytest, hypothesis, transforms3d, hilbertmap.
# Usage: tools/gpu_check.sh [OUTPUT_DIR]
set -uo pipefail
cd "$(dirname "$0")/.."
out=${1:-${OUT:-gpu_check_output}}
mkdir -p "$out"
log="$out/gpu_check.txt"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
python3 -c 'import torch; print("torch", torch.__version__, torch.cuda.get_device_name())' | tee "$log"
python3 -m pytest -q -p no:cacheprovider -o addopts='' test/test_codec_devices.py test/test_codec_depth.py \
    test/test_engine.py test/test_model.py test/test_experts_backend.py 2>&1 | tail -15 | tee -a "$log"
python3 -m vision_banana_ros.cli bench --codecs 2>&1 | tee -a "$log"
python3 -m vision_banana_ros.cli bench --device cuda --batches 1,2,4,8 --repeats 10 2>&1 \
    | grep -v -e 'Loading weights' -e 'Writing model' | tee -a "$log"
