import pytest
import torch

from dlhandbook.dimensionality.weight_sharing import (
    conv_and_dense_layers,
    conv_and_dense_params,
    count_params,
)


def test_parameter_counts_match_torch_modules():
    for c_in, c_out, k, h, w in ((3, 16, 3, 32, 32), (1, 8, 5, 28, 28), (64, 64, 3, 56, 56)):
        conv, dense = conv_and_dense_params(c_in, c_out, k, h, w)
        assert conv == count_params(torch.nn.Conv2d(c_in, c_out, k, padding=k // 2))
        assert dense == count_params(torch.nn.Linear(c_in * h * w, c_out * h * w, device="meta"))
        conv_layer, dense_layer = conv_and_dense_layers(c_in, c_out, k, h, w)
        assert (count_params(conv_layer), count_params(dense_layer)) == (conv, dense)
        assert conv_layer.weight.shape == (c_out, c_in, k, k)
        assert conv_layer.padding == (k // 2, k // 2)   # odd k: output keeps H x W
        assert dense_layer.weight.shape == (c_out * h * w, c_in * h * w)
    assert conv_and_dense_params(3, 16, 3, 32, 32) == (448, 50_348_032)


def test_conv_parameter_count_does_not_depend_on_the_image_size():
    counts = {conv_and_dense_params(3, 16, 3, s, s)[0] for s in (8, 32, 224, 1024)}
    assert counts == {448}


def test_circular_convolution_commutes_with_shifts_and_a_dense_layer_does_not(device):
    conv = torch.nn.Conv2d(2, 4, 3, padding=1, padding_mode="circular",
                           dtype=torch.float64, device=device)
    dense = torch.nn.Linear(2 * 16 * 16, 4 * 16 * 16, dtype=torch.float64, device=device)
    x = torch.randn(3, 2, 16, 16, dtype=torch.float64, device=device)

    def shift(t):
        return torch.roll(t, shifts=(3, -5), dims=(2, 3))

    with torch.no_grad():
        assert (conv(shift(x)) - shift(conv(x))).abs().max() < 1e-12

        def dense_map(t):
            return dense(t.flatten(1)).view(3, 4, 16, 16)

        gap = (dense_map(shift(x)) - shift(dense_map(x))).abs().max()
        assert gap > 0.1


def test_bad_arguments_raise_naming_the_argument():
    with pytest.raises(ValueError, match="kernel_size must be a positive int"):
        conv_and_dense_params(3, 16, 0, 32, 32)
    with pytest.raises(ValueError, match="height must be a positive int"):
        conv_and_dense_params(3, 16, 3, -1, 32)
    with pytest.raises(ValueError, match="c_in must be a positive int"):
        conv_and_dense_params(3.0, 16, 3, 32, 32)
    with pytest.raises(ValueError, match="width must be a positive int"):
        conv_and_dense_layers(3, 16, 3, 32, 0)
    with pytest.raises(ValueError, match="kernel_size must be odd"):
        conv_and_dense_layers(3, 16, 4, 32, 32)
