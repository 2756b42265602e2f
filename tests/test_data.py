"""widgets.compute.data: the images the book uses, all shipped inside installed packages."""

import pytest
import torch

from widgets.compute import data


def test_digits_are_centred_on_the_canvas():
    images, labels = data.digits(16)
    assert images.shape == (1797, 1, 16, 16) and images.dtype == torch.float32
    assert labels.shape == (1797,) and set(labels.tolist()) == set(range(10))
    assert 0.0 <= float(images.min()) and float(images.max()) == 1.0
    border = images.clone()
    border[:, :, 4:12, 4:12] = 0
    assert float(border.abs().sum()) == 0.0, "nothing outside the central 8 x 8 square"


def test_digits_canvas_of_eight_is_the_original():
    from sklearn.datasets import load_digits

    images, _ = data.digits(8)
    assert torch.allclose(images[:, 0], torch.from_numpy(load_digits().images).float() / 16)


@pytest.mark.parametrize("canvas", [7, 65, 16.0])
def test_digits_rejects_bad_canvas(canvas):
    with pytest.raises(ValueError, match="canvas"):
        data.digits(canvas)
