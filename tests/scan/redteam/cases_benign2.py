"""More benign real-world shapes: whole-model pickles from popular libraries (Ultralytics YOLO
checkpoints, torchvision models), torch.save to a path (the archive folder is the file stem),
protocol 5 state dicts, HF Trainer rng_state.pth, ONNX with contrib-domain ops."""

from __future__ import annotations

import io
import random
from pathlib import Path
from typing import Any

from tests.scan.redteam.build import Case, fake_modules, put

GAPS: dict[str, str] = {}
"""Sample id → the false positive it shows today (measured; the test is a strict xfail)."""


def _module_class(name: str, build: Any) -> type:
    import torch

    def __init__(self: Any) -> None:
        torch.nn.Module.__init__(self)
        build(self)

    return type(name, (torch.nn.Module,), {"__init__": __init__})


def _yolo_checkpoint(c: Path) -> bytes:
    """The shape of an Ultralytics ``yolov8n.pt``: the whole DetectionModel pickled (half)."""
    import torch

    def conv_body(self: Any) -> None:
        self.conv = torch.nn.Conv2d(3, 4, 3, bias=False)
        self.bn = torch.nn.BatchNorm2d(4)
        self.act = torch.nn.SiLU()

    conv = _module_class("Conv", conv_body)

    def model_body(self: Any) -> None:
        self.model = torch.nn.Sequential(conv(), torch.nn.Upsample(scale_factor=2.0))
        self.yaml = {"nc": 80, "depth_multiple": 0.33, "backbone": [[-1, 1, "Conv", [16, 3, 2]]]}
        self.names = {0: "person", 1: "bicycle"}
        self.stride = torch.tensor([8.0, 16.0, 32.0])

    detection = _module_class("DetectionModel", model_body)
    with fake_modules({"ultralytics.nn.modules.conv.Conv": conv,
                       "ultralytics.nn.tasks.DetectionModel": detection}):
        model = detection().half()
        buf = io.BytesIO()
        torch.save({"epoch": -1, "best_fitness": None, "model": model, "ema": None,
                    "updates": None, "optimizer": None,
                    "train_args": {"task": "detect", "imgsz": 640, "batch": 16},
                    "date": "2024-01-01T00:00:00", "version": "8.1.0"}, buf)
        return buf.getvalue()


def _torchvision_full(c: Path) -> bytes:
    """``torch.save(torchvision.models.resnet18())``-shaped: ResNet/BasicBlock classes."""
    import torch

    def block_body(self: Any) -> None:
        self.conv1 = torch.nn.Conv2d(4, 4, 3, padding=1, bias=False)
        self.bn1 = torch.nn.BatchNorm2d(4)
        self.relu = torch.nn.ReLU(inplace=True)
        self.downsample = None

    block = _module_class("BasicBlock", block_body)

    def resnet_body(self: Any) -> None:
        self.conv1 = torch.nn.Conv2d(3, 4, 7, stride=2, padding=3, bias=False)
        self.layer1 = torch.nn.Sequential(block(), block())
        self.avgpool = torch.nn.AdaptiveAvgPool2d((1, 1))
        self.fc = torch.nn.Linear(4, 10)

    resnet = _module_class("ResNet", resnet_body)
    with fake_modules({"torchvision.models.resnet.BasicBlock": block,
                       "torchvision.models.resnet.ResNet": resnet}):
        buf = io.BytesIO()
        torch.save(resnet(), buf)
        return buf.getvalue()


def _saved_to_path(folder: Path, canary: Path) -> Path:
    """torch.save to a path names the archive folder after the file stem (unicode, spaces)."""
    import torch

    path = folder / "mödel v2 (final).pt"
    folder.mkdir(parents=True, exist_ok=True)
    torch.save({"w": torch.ones(3), "b": torch.zeros(2)}, path)
    return path


def _protocol5(c: Path) -> bytes:
    import torch

    buf = io.BytesIO()
    torch.nn.Linear(3, 2)
    torch.save(torch.nn.Linear(3, 2).state_dict(), buf, pickle_protocol=5)
    return buf.getvalue()


def _rng_state(c: Path) -> bytes:
    """HF Trainer's rng_state.pth: python, numpy and torch RNG states."""
    import numpy as np
    import torch

    random.seed(0)
    np.random.seed(0)
    buf = io.BytesIO()
    torch.save({"python": random.getstate(), "numpy": np.random.get_state(),
                "cpu": torch.random.get_rng_state()}, buf)
    return buf.getvalue()


def _onnx_contrib(c: Path) -> bytes:
    """skl2onnx / onnxruntime-optimizer output: ai.onnx.ml and com.microsoft domain ops."""
    from onnx import TensorProto, helper

    nodes = [helper.make_node("FusedMatMul", ["X", "W"], ["H"], domain="com.microsoft",
                              alpha=1.0),
             helper.make_node("LinearClassifier", ["H"], ["label", "probs"], domain="ai.onnx.ml",
                              coefficients=[0.1, 0.2, 0.3, 0.4], intercepts=[0.0, 0.0],
                              classlabels_ints=[0, 1]),
             helper.make_node("ZipMap", ["probs"], ["out"], domain="ai.onnx.ml",
                              classlabels_int64s=[0, 1])]
    w = helper.make_tensor("W", TensorProto.FLOAT, [2, 2], [1.0, 0.0, 0.0, 1.0])
    graph = helper.make_graph(
        nodes, "skl", [helper.make_tensor_value_info("X", TensorProto.FLOAT, [1, 2])],
        [helper.make_tensor_value_info("label", TensorProto.INT64, [1]),
         helper.make_value_info("out", helper.make_sequence_type_proto(helper.make_map_type_proto(
             TensorProto.INT64, helper.make_tensor_type_proto(TensorProto.FLOAT, []))))],
        initializer=[w])
    model = helper.make_model(graph, opset_imports=[
        helper.make_opsetid("", 17), helper.make_opsetid("ai.onnx.ml", 3),
        helper.make_opsetid("com.microsoft", 1)], producer_name="skl2onnx")
    return bytes(model.SerializeToString())


def benign2_cases() -> list[Case]:
    def f(id_: str, technique: str, rel: str, fn: Any, notes: frozenset[str] = frozenset()) -> Case:
        return Case(id_, "benign", technique, lambda folder, c: put(folder, rel, fn(c)),
                    GAPS.get(id_), notes)

    # whole pickled modules: their classes are only rebuilt by NEWOBJ + BUILD, a medium review note
    instantiated = frozenset({"MW-PKL-003"})

    return [
        *benign2b_cases(),
        f("benign-torch-yolo-full-model", "Ultralytics-style checkpoint: whole DetectionModel "
          "(ultralytics.nn.* classes) pickled, half precision", "yolov8n.pt", _yolo_checkpoint,
          instantiated),
        f("benign-torch-torchvision-full-model", "torch.save of a whole torchvision ResNet",
          "resnet18_full.pth", _torchvision_full, instantiated),
        Case("benign-torch-saved-to-unicode-path", "benign",
             "torch.save to 'mödel v2 (final).pt' (archive folder = stem)", _saved_to_path,
             GAPS.get("benign-torch-saved-to-unicode-path")),
        f("benign-torch-protocol5", "state dict saved with pickle_protocol=5 (FRAME opcodes)",
          "p5.pt", _protocol5),
        f("benign-torch-hf-rng-state", "HF Trainer rng_state.pth (python/numpy/torch RNG)",
          "rng_state.pth", _rng_state),
        f("benign-onnx-contrib-ops", "ONNX with ai.onnx.ml (LinearClassifier, ZipMap) and "
          "com.microsoft (FusedMatMul) ops", "skl/model.onnx", _onnx_contrib),
    ]


def _savedmodel_saver(folder: Path, canary: Path) -> Path:
    """A SavedModel graph with the checkpoint machinery every real one has (SaveV2/RestoreV2 fed
    by the saver_filename placeholder) and a vocabulary table read from its assets."""
    from tests.scan.corpus import proto as p

    def const(name: str, value: bytes) -> bytes:
        return p.node_def(name, "Const", attrs={"value": p.attr_value_str(value)})

    nodes = [
        p.node_def("saver_filename", "Placeholder", attrs={"dtype": p.attr_value_type(7)}),
        const("tensor_names", b"w"), const("shape_and_slices", b""),
        p.node_def("w", "VarHandleOp"),
        p.node_def("StringJoin", "StringJoin", ("saver_filename", "tensor_names")),
        p.node_def("ShardedFilename", "ShardedFilename", ("StringJoin", "tensor_names",
                                                          "tensor_names")),
        p.node_def("SaveV2", "SaveV2", ("ShardedFilename", "tensor_names", "shape_and_slices",
                                        "w")),
        p.node_def("MergeV2Checkpoints", "MergeV2Checkpoints", ("ShardedFilename",
                                                                "saver_filename")),
        p.node_def("RestoreV2", "RestoreV2", ("saver_filename", "tensor_names",
                                              "shape_and_slices")),
        const("vocab_path", b"vocab.txt"),
        p.node_def("table", "HashTableV2"),
        p.node_def("init_table", "InitializeTableFromTextFileV2", ("table", "vocab_path")),
    ]
    root = folder / "saver_model"
    put(root, "saved_model.pb", p.saved_model(nodes))
    put(root, "assets/vocab.txt", b"hello\nworld\n")
    (root / "variables").mkdir()
    return root


def benign2b_cases() -> list[Case]:
    return [Case("benign-savedmodel-saver-and-vocab", "benign",
                 "SavedModel with SaveV2/RestoreV2/MergeV2Checkpoints on the saver placeholder and "
                 "a vocab table from assets", _savedmodel_saver,
                 GAPS.get("benign-savedmodel-saver-and-vocab"))]
