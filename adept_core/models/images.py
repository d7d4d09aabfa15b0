"""Real photos shipped inside scikit-image's wheel, prepared for an ImageNet classifier.

``skimage.data`` loads these from files inside the installed package (no
download for the ones listed here). Preprocessing follows the usual
ImageNet evaluation recipe: resize the short side to ``size / 0.875``
(256 for 224) with antialiasing, centre-crop ``size x size``, then the
model's own pixel normalisation.
"""

from __future__ import annotations

import numpy as np

from ..errors import BackendUnavailableError, InputError

#: Photos in the scikit-image wheel and what they show (for the reader; labels are checked separately).
PHOTOS = {
    "chelsea": "a tabby cat",
    "coffee": "a cup of coffee on a saucer",
    "astronaut": "astronaut Eileen Collins in front of a flag",
    "rocket": "a rocket on its launch pad",
    "motorcycle": "a motorcycle (left view of a stereo pair)",
    "camera": "a man with a camera on a tripod (greyscale)",
    "hubble_deep_field": "the Hubble deep field (no ImageNet class)",
    "coins": "Greek coins (greyscale)",
}

#: Fraction of the resized image kept by the centre crop (224 / 256).
CROP_FRACTION = 0.875


def load_photo(name: str) -> np.ndarray:
    """RGB uint8 ``[H, W, 3]`` photo ``name`` from :mod:`skimage.data`."""
    if name not in PHOTOS:
        raise InputError(f"unknown photo {name!r}; available: {sorted(PHOTOS)}")
    try:
        import skimage.data
    except ImportError as exc:
        raise BackendUnavailableError("scikit-image is needed for the photos: pip install scikit-image") from exc
    # stereo_motorcycle() returns (left, right, disparity); every other photo has its own loader.
    img = np.asarray(skimage.data.stereo_motorcycle()[0] if name == "motorcycle" else getattr(skimage.data, name)())
    if img.ndim == 2:
        img = np.repeat(img[:, :, None], 3, axis=2)
    return img[:, :, :3]


def preprocess(img: np.ndarray, size: int, mean: float, std: float) -> np.ndarray:
    """Resize short side to ``size / CROP_FRACTION``, centre-crop, normalise: float32 ``[3, size, size]``."""
    from skimage.transform import resize

    h, w = img.shape[:2]
    short = round(size / CROP_FRACTION)
    nh, nw = (short, max(short, round(w * short / h))) if h <= w else (max(short, round(h * short / w)), short)
    resized = resize(img.astype(np.float64), (nh, nw), order=1, anti_aliasing=True, preserve_range=True)
    top, left = (nh - size) // 2, (nw - size) // 2
    crop = resized[top:top + size, left:left + size]
    return ((crop - mean) / std).transpose(2, 0, 1).astype(np.float32)


def photo_batch(names: list[str], size: int, mean: float, std: float) -> np.ndarray:
    """Stacked ``[B, 3, size, size]`` preprocessed photos."""
    return np.stack([preprocess(load_photo(n), size, mean, std) for n in names])
