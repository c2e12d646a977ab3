#!/usr/bin/env python
"""Make the independent ONNX test data: real torchvision / timm models, counted by fvcore.

Not run by the test-suite: it needs the reference environment (torch, torchvision,
timm, fvcore, onnx; see mncost/reference/generate.py). For each model (always
``pretrained=False``) it

* counts conv + linear MACs, attention MACs and conv + linear params with fvcore,
  under the convention of ``mncost/reference/generate.py`` (BN, pooling,
  activations and element-wise ops not counted);
* exports the model with the legacy ONNX exporter (eval mode, no constant folding,
  so BatchNorm stays a node of its own as in PyTorch);
* drops the weight values from the file (initializers keep their shapes and
  dtypes: counting needs nothing else), so each file is a few kilobytes.

Usage: python tests/onnx_reference/generate.py   (writes counts.json and *.onnx here)
"""

from __future__ import annotations

import json
import platform
import sys
import warnings
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))
warnings.filterwarnings("ignore")

import onnx  # noqa: E402
import timm  # noqa: E402
import torch  # noqa: E402
import torchvision  # noqa: E402

from mncost.reference.generate import count_model, count_params  # noqa: E402

MODELS = {
    # name: (constructor, resolution)
    "tv_resnet18": ("torchvision.models.resnet18()", 224),
    "tv_mobilenet_v2": ("torchvision.models.mobilenet_v2()", 224),
    "tv_mobilenet_v3_small": ("torchvision.models.mobilenet_v3_small()", 224),
    "tv_efficientnet_b0": ("torchvision.models.efficientnet_b0()", 224),
    "tv_shufflenet_v2_x1_0": ("torchvision.models.shufflenet_v2_x1_0()", 224),
    "tv_squeezenet1_1": ("torchvision.models.squeezenet1_1()", 224),
    "tv_regnet_y_400mf": ("torchvision.models.regnet_y_400mf()", 224),
    "tv_mnasnet0_5": ("torchvision.models.mnasnet0_5()", 224),
    "tv_convnext_tiny": ("torchvision.models.convnext_tiny()", 224),
    "timm_mobilenetv4_hybrid_medium": ("timm.create_model('mobilenetv4_hybrid_medium', pretrained=False)", 256),
    "timm_efficientnet_lite0": ("timm.create_model('efficientnet_lite0', pretrained=False)", 224),
}


def strip(model: onnx.ModelProto) -> None:
    for init in model.graph.initializer:
        if init.data_type in (onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16) and len(init.dims) and int(torch.tensor(list(init.dims)).prod()) > 64:
            init.ClearField("raw_data")
            init.ClearField("float_data")


def main() -> None:
    entries = {}
    for name, (constructor, res) in MODELS.items():
        torch.manual_seed(0)
        model = eval(constructor, {"torchvision": torchvision, "timm": timm}).eval()
        counted, _ = count_model(model, res, name)
        params = count_params(model)
        path = HERE / f"{name}.onnx"
        x = torch.zeros(1, 3, res, res)
        torch.onnx.export(model, (x,), str(path), dynamo=False, opset_version=17, input_names=["image"],
                          training=torch.onnx.TrainingMode.EVAL, do_constant_folding=False)
        graph = onnx.load(str(path))
        strip(graph)
        onnx.save(graph, str(path))
        entries[name] = {"constructor": constructor, "resolution": res, "file": path.name, **counted, **params}
        print(name, entries[name], f"{path.stat().st_size} bytes", flush=True)
    versions = {"python": platform.python_version(), "torch": torch.__version__, "torchvision": torchvision.__version__,
                "timm": timm.__version__, "onnx": onnx.__version__}
    (HERE / "counts.json").write_text(json.dumps({"generated_by": "tests/onnx_reference/generate.py", "versions": versions,
                                                   "convention": "fvcore conv+linear MACs and params, attention MACs apart (mncost/reference/generate.py)",
                                                   "entries": entries}, indent=1) + "\n")


if __name__ == "__main__":
    main()
