# Copyright 2026 The vision_banana_ros authors
#
# Licensed under the Apache License, Version 2.0 (the "License");
# you may not use this file except in compliance with the License.
# You may obtain a copy of the License at
#
#     http://www.apache.org/licenses/LICENSE-2.0
#
# Unless required by applicable law or agreed to in writing, software
# distributed under the License is distributed on an "AS IS" BASIS,
# WITHOUT WARRANTIES OR CONDITIONS OF ANY KIND, either express or implied.
# See the License for the specific language governing permissions and
# limitations under the License.

"""The served network inside Triton's Python backend (this module runs in the backend's stub process).

Triton's dynamic batcher hands `execute` the requests of every client that arrived together; they are answered in
one forward (`AllTasks`: images N x 3 x H x W -> answers N x T x 3 x H x W, the contract of `model.served`) and
split back per request. Tensors cross between Triton and torch through DLPack, never through numpy: the backend
stub's own numpy bridge predates numpy 2 and reads numpy 2 arrays as garbage (inputs arrive as ones, outputs
leave empty).

The model's config parameters say what to serve: `vision_banana.backend` ('unified': `vision_banana.weights`, a
safetensors file, empty for the embedded weights; 'experts': `vision_banana.segmentation_model` and/or
`vision_banana.depth_model`, answering through `ExpertAnswers` with each frame's `intrinsics`) and
`vision_banana.device`.
"""
import json

import torch
from torch.utils.dlpack import from_dlpack, to_dlpack
import triton_python_backend_utils as pb_utils

from vision_banana_ros.model.served import AllTasks, BACKEND, ExpertAnswers, INPUT, INTRINSICS, OUTPUT
from vision_banana_ros.model.weights import load_network


class TritonPythonModel:
    """What Triton's Python backend calls: initialize once, execute per batch of requests, finalize."""

    def initialize(self, args):
        """Load the network named by the model's parameters."""
        parameters = {k: v['string_value'] for k, v in json.loads(args['model_config'])['parameters'].items()}
        self.device = torch.device(parameters.get('vision_banana.device') or 'cpu')
        if parameters.get(BACKEND) == 'experts':
            from vision_banana_ros.backends.experts import ExpertsBackend
            self.served = ExpertAnswers(ExpertsBackend(parameters.get('vision_banana.segmentation_model') or None,
                                                       parameters.get('vision_banana.depth_model') or None,
                                                       self.device))
            self.inputs = (INPUT, INTRINSICS)
        else:
            weights = parameters.get('vision_banana.weights') or None
            self.served = AllTasks(load_network(weights, self.device)).eval()
            self.inputs = (INPUT,)

    def execute(self, requests):
        """All requests in one forward; one response each."""
        inputs = [[from_dlpack(pb_utils.get_input_tensor_by_name(r, name).to_dlpack()) for r in requests]
                  for name in self.inputs]
        counts = [len(i) for i in inputs[0]]
        with torch.inference_mode():
            answers = self.served(*[torch.cat(i).to(self.device, torch.float32) for i in inputs]).float().cpu()
        return [pb_utils.InferenceResponse(output_tensors=[
                    pb_utils.Tensor.from_dlpack(OUTPUT, to_dlpack(part.contiguous()))])
                for part in answers.split(counts)]
