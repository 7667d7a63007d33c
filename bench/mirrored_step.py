"""``python -m bench.mirrored_step``: one SGD step under MirroredStrategy (2 logical CPUs) vs plain.

A diagnostic for the mirrored-training target (bench/RESULTS.md, "Mirrored training"): the same
default U-Net, batch and per-sample weights, one step each way; prints, per weight, the largest
difference between the two steps relative to the step's own size.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import numpy as np
import tensorflow as tf


def _build() -> keras.Model:
    """The default U-Net preset at window 64, filters 4 (the tests' mirrored runs)."""
    from denoiser.config import ModelConfig
    from denoiser.model import build_model

    keras.utils.set_random_seed(0)
    return build_model(ModelConfig(window=64, filters=4))


def main() -> None:
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((32, 64)).astype("float32")
    y = 0.5 * x
    weights = rng.uniform(0.2, 3.0, 32).astype("float32")
    weights /= weights.mean()
    steps = {}
    for name in ("plain", "mirrored"):
        strategy = (
            tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]) if name == "mirrored" else tf.distribute.get_strategy()
        )
        with strategy.scope():
            model = _build()
            before = [w.numpy().copy() for w in model.weights]
            model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
        model.fit(x, y, sample_weight=weights, batch_size=32, epochs=1, verbose=0, shuffle=False)
        steps[name] = [w.numpy() - b for w, b in zip(model.weights, before)]
    for w, a, b in zip(_build().weights, steps["plain"], steps["mirrored"]):
        print(
            f"{w.path:32s} {str(a.shape):10s} max |mirrored - plain| / max |plain step| = "
            f"{np.max(np.abs(a - b)) / np.max(np.abs(a)):.2e}"
        )


if __name__ == "__main__":
    main()
