"""Training settings: three presets and a rough estimate of memory and time.

The estimate is for people choosing a preset, not a promise: weights + LoRA
optimizer state + activations for memory, tokens over a throughput guess for time.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

GIB = 1024 ** 3


@dataclass(frozen=True)
class TrainSettings:
    preset: str = "quick"
    rank: int = 8
    alpha: float = 16.0
    learning_rate: float = 2e-4
    epochs: int = 1
    seq_len: int = 512
    batch: int = 4
    load_4bit: bool = True       # Unsloth on CUDA only; ignored elsewhere
    max_steps: int = 0           # 0 = epochs decide
    save_every: int = 50
    seed: int = 0
    backend: str = "auto"        # auto (Unsloth with CUDA, else PEFT) | unsloth | peft
    threads: int = 0             # CPU threads for the trainer; 0 = one fewer than the usable cores

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> TrainSettings:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known)


PRESETS: dict[str, TrainSettings] = {
    "quick": TrainSettings("quick", rank=8, alpha=16, learning_rate=2e-4, epochs=1, seq_len=512),
    "balanced": TrainSettings("balanced", rank=16, alpha=32, learning_rate=2e-4, epochs=3, seq_len=1024),
    "thorough": TrainSettings("thorough", rank=32, alpha=64, learning_rate=1e-4, epochs=5, seq_len=2048),
}


def preset(name: str, **changes) -> TrainSettings:
    if name not in PRESETS:
        raise ValueError(f"Unknown preset {name!r}; choose one of {', '.join(PRESETS)}.")
    return replace(PRESETS[name], **changes) if changes else PRESETS[name]


def spec_train(settings: TrainSettings) -> dict:
    """The trainer's `train` and `lora` sections of its spec."""
    s = settings
    return {"lora": {"r": s.rank, "alpha": s.alpha},
            "load_4bit": s.load_4bit, "backend": s.backend,
            "train": {"epochs": s.epochs, "lr": s.learning_rate, "seq_len": s.seq_len, "batch": s.batch,
                      "max_steps": s.max_steps, "save_every": s.save_every, "seed": s.seed, "threads": s.threads}}


@dataclass(frozen=True)
class Estimate:
    steps: int
    memory_bytes: int
    seconds: float
    device: str          # "gpu" or "cpu"

    def text(self) -> str:
        return f"{self.steps} steps, about {self.memory_bytes / GIB:.1f} GiB, {_duration(self.seconds)}"


def _duration(seconds: float) -> str:
    if seconds < 90:
        return f"~{max(1, round(seconds))} s"
    if seconds < 5400:
        return f"~{round(seconds / 60)} min"
    return f"~{seconds / 3600:.1f} h"


def estimate(n_params: int, n_layers: int, hidden: int, examples: int, mean_tokens: float,
             settings: TrainSettings, gpu: bool) -> Estimate:
    """Memory and time for `examples` of `mean_tokens` each on a GPU or this CPU."""
    s = settings
    per_epoch = max(1, -(-examples // s.batch))
    steps = s.max_steps or per_epoch * s.epochs
    bytes_per_weight = (0.56 if s.load_4bit else 2.0) if gpu else 4.0
    lora_params = 2 * s.rank * hidden * 7 * n_layers          # seven projections per block, A and B
    tokens = min(mean_tokens, s.seq_len)
    activations = s.batch * tokens * hidden * n_layers * (18 if gpu else 34)  # checkpointed on GPU
    memory = int(n_params * bytes_per_weight + lora_params * 16 + activations + (0.6 * GIB if gpu else 0.3 * GIB))
    # Throughput guesses: ~6·params FLOPs per token trained; a mid-range GPU sustains ~25 TFLOPS
    # here, and this project's CPU measurement was ~70 tokens/s for 135M parameters.
    rate = 25e12 / (6 * n_params) if gpu else 70 * 135e6 / n_params
    seconds = steps * s.batch * tokens / max(rate, 1e-6) + (30 if gpu else 10)
    return Estimate(steps, memory, seconds, "gpu" if gpu else "cpu")


def estimate_for_model(gguf_path, examples: list[dict], settings: TrainSettings, gpu: bool) -> Estimate:
    """`estimate` for a GGUF base, its size read from the file."""
    import numpy as np

    from ..models.gguf_file import read_gguf_info
    from .dataset import example_tokens

    info = read_gguf_info(gguf_path)
    n_params = sum(int(np.prod(t[0])) for t in info.tensors.values())
    mean = sum(example_tokens(e) for e in examples) / max(1, len(examples))
    return estimate(n_params, info.n_layers or 1, info.n_embd or 1, len(examples), mean, settings, gpu)
