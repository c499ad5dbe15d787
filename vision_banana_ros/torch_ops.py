"""Small tensor helpers shared by the codecs, geometry, resampling and losses."""
import torch


def norm(x: torch.Tensor, dim: int, keepdim: bool = False) -> torch.Tensor:
    """Euclidean length along `dim`. Spelled out because torch.linalg.vector_norm over a dimension that is not the
    innermost runs about 100x slower on the CPU build used here (52 ms against 0.3 ms for 3 x 480 x 640)."""
    return (x * x).sum(dim=dim, keepdim=keepdim).sqrt()
