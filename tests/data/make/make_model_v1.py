# Makes tests/data/model_v1_global.keras with the format-version-1 code (commit 2b526b4).
import numpy as np

from denoiser import Denoiser, ModelConfig, TrainConfig

rng = np.random.default_rng(0)
t = np.linspace(0, 8 * np.pi, 4000)
clean = 3.0 + 2.0 * np.sin(t)
noisy = clean + rng.normal(0, 0.3, t.shape)
den = Denoiser(ModelConfig(window=32, scaling="global", filters=2, depth=1, kernel_size=3))
den.fit(noisy, clean, TrainConfig(epochs=2, batch_size=64, patience=2, seed=0))
den.save("tests/data/model_v1_global.keras")
x = 3.0 + 2.0 * np.sin(np.linspace(0, 3, 200)) + np.random.default_rng(1).normal(0, 0.3, 200)
np.save("tests/data/model_v1_global_input.npy", x)
np.save("tests/data/model_v1_global_output.npy", den.denoise(x))
print(den.config)
