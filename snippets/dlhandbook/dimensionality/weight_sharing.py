r"""Weight sharing: what a convolution saves over a dense layer with the same shapes.

A convolution from $C_{\text{in}}$ to $C_{\text{out}}$ channels with a $k \times k$
kernel applies the same weights at every position, so its parameter count does not
depend on the image size $H \times W$. A dense layer between the same tensors connects
every input value to every output value:

$$P_{\text{conv}} = C_{\text{out}}(C_{\text{in}} k^2 + 1), \qquad
P_{\text{dense}} = (C_{\text{out}} H W)(C_{\text{in}} H W + 1).$$

With circular padding the convolution also commutes with every shift of the image
(translation equivariance), which a dense layer does not in general.

Reference: LeCun, Bottou, Bengio & Haffner (1998), *Gradient-based learning applied to
document recognition*, Proceedings of the IEEE.
"""

# --8<-- [start:imports]
import torch

# --8<-- [end:imports]


# --8<-- [start:torch]
def conv_and_dense_params(c_in, c_out, kernel_size, height, width):
    """(conv, dense) parameter counts for (c_in, H, W) -> (c_out, H, W), with biases."""
    _check_layer_sizes(c_in, c_out, kernel_size, height, width)
    conv = c_out * (c_in * kernel_size ** 2 + 1)                 # one shared kernel
    dense = (c_out * height * width) * (c_in * height * width + 1)   # every pair
    return conv, dense


def conv_and_dense_layers(c_in, c_out, kernel_size, height, width, device="meta"):
    """The two torch layers (on the 'meta' device: shapes only, no memory)."""
    _check_layer_sizes(c_in, c_out, kernel_size, height, width)
    if kernel_size % 2 == 0:
        raise ValueError(f"kernel_size must be odd to keep H x W, got {kernel_size}")
    conv = torch.nn.Conv2d(c_in, c_out, kernel_size, padding=kernel_size // 2,
                           device=device)
    dense = torch.nn.Linear(c_in * height * width, c_out * height * width,
                            device=device)             # acts on x.flatten(1)
    return conv, dense


def count_params(module):
    """Number of parameters of a torch module."""
    return sum(p.numel() for p in module.parameters())
# --8<-- [end:torch]


# --8<-- [start:checks]
def _check_layer_sizes(c_in, c_out, kernel_size, height, width):
    for name, v in (("c_in", c_in), ("c_out", c_out), ("kernel_size", kernel_size),
                    ("height", height), ("width", width)):
        if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
            raise ValueError(f"{name} must be a positive int, got {v!r}")
# --8<-- [end:checks]


if __name__ == "__main__":
    conv, dense = conv_and_dense_layers(3, 16, 3, 32, 32)
    print(conv_and_dense_params(3, 16, 3, 32, 32))
    print(count_params(conv), count_params(dense))
