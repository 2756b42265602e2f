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


@pytest.mark.parametrize("canvas", [7, 129, 16.0])
def test_digits_rejects_bad_canvas(canvas):
    with pytest.raises(ValueError, match="canvas"):
        data.digits(canvas)


def test_digits_scaled_up_fill_a_larger_centred_square():
    small, labels = data.digits(16)
    big, big_labels = data.digits(32, scale=2)
    assert big.shape == (1797, 1, 32, 32) and torch.equal(labels, big_labels)
    outside = big.clone()
    outside[:, :, 8:24, 8:24] = 0
    assert float(outside.abs().sum()) == 0.0
    assert 0.0 <= float(big.min()) and float(big.max()) <= 1.0
    # Averaging each 2 x 2 block of the enlarged digit gives back roughly the original.
    pooled = torch.nn.functional.avg_pool2d(big[:, :, 8:24, 8:24], 2)
    assert float((pooled - small[:, :, 4:12, 4:12]).abs().mean()) < 0.1
    with pytest.raises(ValueError, match="canvas"):
        data.digits(12, scale=2)
    with pytest.raises(ValueError, match="scale"):
        data.digits(32, scale=5)


def test_digit_split_is_seeded_and_disjoint():
    a, b, c = data.digit_split(seed=0), data.digit_split(seed=0), data.digit_split(seed=1)
    assert len(a.train_labels) == data.N_TRAIN and len(a.test_labels) == data.N_DIGITS - data.N_TRAIN
    assert torch.equal(a.train_images, b.train_images) and not torch.equal(a.train_labels, c.train_labels)
    everything = torch.cat([a.train_images, a.test_images]).flatten(1)
    assert len(torch.unique(everything, dim=0)) == len(torch.unique(data.digits()[0].flatten(1), dim=0))
    for kwargs in ({"n_train": 5}, {"n_train": 1790}, {"seed": -1}, {"canvas": 4}):
        with pytest.raises(ValueError, match=next(iter(kwargs))):
            data.digit_split(**kwargs)


def test_balanced_subset_is_nested_and_balanced():
    labels = data.digit_split().train_labels
    first = data.balanced_subset(labels, 50, seed=3)
    assert torch.bincount(labels[first], minlength=10).tolist() == [5] * 10
    bigger = data.balanced_subset(labels, 100, seed=3)
    assert torch.equal(bigger[:50], first)
    assert len(set(data.balanced_subset(labels, len(labels), seed=3).tolist())) == len(labels)
    assert not torch.equal(data.balanced_subset(labels, 50, seed=4), first)
    for args in ((labels.float(), 5), (labels, 0), (labels, len(labels) + 1), (torch.tensor([], dtype=torch.int64), 1)):
        with pytest.raises(ValueError):
            data.balanced_subset(*args)


def test_shift_inside_moves_and_refuses_to_lose_ink():
    x = torch.zeros(2, 1, 16, 16)
    x[0, 0, 4:12, 4:12] = torch.rand(8, 8) + 0.1
    moved = data.shift_inside(x, 3, -4)
    assert torch.equal(moved[0, 0, 7:15, 0:8], x[0, 0, 4:12, 4:12])
    assert torch.equal(data.shift_inside(moved, -3, 4), x)
    assert torch.equal(data.shift_inside(x, 4, 4)[0, 0, 8:16, 8:16], x[0, 0, 4:12, 4:12])
    with pytest.raises(ValueError, match="dy"):
        data.shift_inside(x, 5, 0)
    with pytest.raises(ValueError, match="dx"):
        data.shift_inside(x, 0, -5)
    with pytest.raises(ValueError, match="dx"):
        data.shift_inside(x, 0, 1.5)


def test_random_shifts_give_each_image_its_own_move():
    x = torch.zeros(200, 1, 16, 16)
    x[:, 0, 7, 7] = 1.0
    out = data.random_shifts(x, 3, torch.Generator().manual_seed(0))
    where = out[:, 0].flatten(1).argmax(dim=1)
    dy, dx = where // 16 - 7, where % 16 - 7
    assert set(dy.tolist()) == set(range(-3, 4)) and set(dx.tolist()) == set(range(-3, 4))
    assert torch.equal(out, data.random_shifts(x, 3, torch.Generator().manual_seed(0)))
    assert torch.equal(data.random_shifts(x, 0, torch.Generator()), x)
    with pytest.raises(ValueError, match="generator"):
        data.random_shifts(x, 2, 0)
    with pytest.raises(ValueError, match="max_shift"):
        data.random_shifts(x, 16, torch.Generator())


def test_place_randomly_keeps_ink_and_anywhere_moves_both_halves():
    split = data.digit_split()
    placed = data.anywhere(split, max_shift=4, seed=0)
    assert torch.equal(placed.train_labels, split.train_labels)
    torch.testing.assert_close(placed.test_images.sum(dim=(1, 2, 3)), split.test_images.sum(dim=(1, 2, 3)))
    assert not torch.equal(placed.train_images, split.train_images)
    assert torch.equal(placed.train_images, data.place_randomly(split.train_images, 4, seed=0))
    assert torch.equal(placed.test_images, data.place_randomly(split.test_images, 4, seed=1))
    with pytest.raises(ValueError, match="max_shift"):
        data.anywhere(split, max_shift=6)
    with pytest.raises(ValueError, match="split"):
        data.anywhere((split.train_images, split.train_labels))
