"""Keras 3 ``.keras`` archives written by hand (Keras is not installed): realistic configs as
``model.save()`` writes them, and hostile ones. Nothing here is ever loaded."""

from __future__ import annotations

import base64
import io
import json
import marshal
import zipfile
from typing import Any

METADATA = {"keras_version": "3.6.0", "date_saved": "2025-01-14@10:02:11"}


def layer(class_name: str, config: dict[str, Any], module: str = "keras.layers",
          registered_name: str | None = None, **extra: Any) -> dict[str, Any]:
    return {"module": module, "class_name": class_name, "config": config,
            "registered_name": registered_name, **extra}


def initializer(name: str) -> dict[str, Any]:
    return {"module": "keras.initializers", "class_name": name, "config": {"seed": None},
            "registered_name": None}


DTYPE = {"module": "keras", "class_name": "DTypePolicy", "config": {"name": "float32"},
         "registered_name": None}


def dense(name: str, units: int, activation: str = "relu") -> dict[str, Any]:
    return layer("Dense", {
        "name": name, "trainable": True, "dtype": DTYPE, "units": units,
        "activation": activation, "use_bias": True,
        "kernel_initializer": initializer("GlorotUniform"),
        "bias_initializer": {"module": "keras.initializers", "class_name": "Zeros",
                             "config": {}, "registered_name": None},
        "kernel_regularizer": None, "bias_regularizer": None, "kernel_constraint": None,
        "bias_constraint": None}, build_config={"input_shape": [None, 32]})


def sequential(layers: list[dict[str, Any]], name: str = "sequential") -> dict[str, Any]:
    return layer("Sequential", {"name": name, "trainable": True, "dtype": DTYPE,
                                "layers": [layer("InputLayer", {"batch_shape": [None, 28, 28, 1],
                                                                "dtype": "float32",
                                                                "sparse": False,
                                                                "name": "input_layer"}),
                                           *layers],
                                "build_input_shape": [None, 28, 28, 1]},
                 module="keras", build_config={"input_shape": [None, 28, 28, 1]},
                 compile_config={"optimizer": {"module": "keras.optimizers", "class_name": "Adam",
                                               "config": {"name": "adam", "learning_rate": 0.001},
                                               "registered_name": None},
                                 "loss": "sparse_categorical_crossentropy",
                                 "metrics": ["accuracy"], "jit_compile": False})


def benign_cnn() -> dict[str, Any]:
    return sequential([
        layer("Conv2D", {"name": "conv2d", "trainable": True, "dtype": DTYPE, "filters": 32,
                         "kernel_size": [3, 3], "strides": [1, 1], "padding": "valid",
                         "data_format": "channels_last", "activation": "relu",
                         "kernel_initializer": initializer("GlorotUniform")}),
        layer("BatchNormalization", {"name": "batch_normalization", "axis": -1,
                                     "momentum": 0.99, "epsilon": 0.001, "center": True,
                                     "scale": True, "dtype": DTYPE}),
        layer("MaxPooling2D", {"name": "max_pooling2d", "pool_size": [2, 2]}),
        layer("Flatten", {"name": "flatten", "data_format": "channels_last"}),
        layer("Dropout", {"name": "dropout", "rate": 0.5, "seed": None, "noise_shape": None}),
        dense("dense", 10, "softmax"),
    ])


def benign_functional_with_nested_model() -> dict[str, Any]:
    encoder = layer("Functional", {
        "name": "encoder", "trainable": True,
        "layers": [
            {"module": "keras.layers", "class_name": "InputLayer", "config": {
                "batch_shape": [None, 32], "dtype": "float32", "name": "enc_in"},
             "registered_name": None, "name": "enc_in", "inbound_nodes": []},
            {**dense("enc_dense", 16), "name": "enc_dense", "inbound_nodes": [
                {"args": [{"class_name": "__keras_tensor__", "config": {
                    "shape": [None, 32], "dtype": "float32", "keras_history": ["enc_in", 0, 0]}}],
                 "kwargs": {}}]},
        ],
        "input_layers": [["enc_in", 0, 0]], "output_layers": [["enc_dense", 0, 0]]},
        module="keras.src.models.functional")
    wrapped = layer("TimeDistributed", {"name": "td", "layer": dense("inner", 4)})
    bidi = layer("Bidirectional", {"name": "bidi", "merge_mode": "concat", "layer": layer(
        "LSTM", {"name": "lstm", "units": 8, "activation": "tanh",
                 "recurrent_activation": "sigmoid"})})
    act = {"module": "keras.activations", "class_name": "function", "config": "gelu",
           "registered_name": "gelu"}
    return layer("Functional", {"name": "model", "trainable": True,
                                "layers": [encoder, wrapped, bidi, dense("head", 2, "linear"),
                                           layer("Activation", {"name": "act",
                                                                "activation": act})],
                                "input_layers": [["enc_in", 0, 0]],
                                "output_layers": [["head", 0, 0]]},
                 module="keras.src.models.functional")


def marshalled_lambda() -> str:
    """Base64 marshalled bytecode of ``lambda x: __import__('os').system('echo CANARY') or x``.

    Compiled here (never run): exactly what Keras' ``func_dump`` stores.
    """
    code = compile("lambda x: __import__('os').system('echo MLWARDEN-CANARY') or x", "<lambda>",
                   "eval").co_consts[0]
    return base64.b64encode(marshal.dumps(code)).decode()


def keras3_lambda(name: str = "lambda") -> dict[str, Any]:
    return layer("Lambda", {
        "name": name, "trainable": True, "dtype": DTYPE,
        "function": {"class_name": "__lambda__",
                     "config": {"code": marshalled_lambda(), "defaults": None, "closure": None}},
        "arguments": {}})


def keras_zip(config: dict[str, Any] | bytes, *, extra: dict[str, bytes] | None = None,
              metadata: dict[str, Any] | bytes | None = None,
              compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        meta = metadata if metadata is not None else METADATA
        zf.writestr("metadata.json", meta if isinstance(meta, bytes) else json.dumps(meta))
        zf.writestr("config.json", config if isinstance(config, bytes) else json.dumps(config))
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return buf.getvalue()
