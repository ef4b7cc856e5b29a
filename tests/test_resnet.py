"""Distance convolutions and ResNet-20 (Metric as Transform sec. 2.4, Table 2) against unfold references."""
import pytest
import torch
from torch.nn import functional as F

from nngeom.metric.distances import inverse_stereographic
from nngeom.metric.resnet import IStereoConv2d, L2Conv2d, ResNet, conv3x3, resnet20


def _patches(conv, x):
    cols = F.unfold(x, conv.kernel_size, padding=conv.padding, stride=conv.stride)  # (B, Ckk, L)
    return cols.transpose(1, 2)  # (B, L, Ckk)


@pytest.mark.parametrize("stride", [1, 2])
@pytest.mark.parametrize("normalize", [False, True])
def test_l2_conv_matches_unfold_cdist(stride, normalize):
    torch.manual_seed(0)
    conv = L2Conv2d(3, 5, 3, stride=stride, padding=1, normalize=normalize).double()
    x = torch.randn(2, 3, 8, 8, dtype=torch.float64)
    out = conv(x)
    p = _patches(conv, x)
    ref = -torch.cdist(p, conv.weight.flatten(1).expand(2, -1, -1))  # (B, L, out)
    if normalize:  # standardised over the output channels at each position
        ref = (ref - ref.mean(-1, keepdim=True)) / torch.sqrt(ref.var(-1, unbiased=False, keepdim=True) + conv.eps)
    side = out.shape[-1]
    torch.testing.assert_close(out, ref.transpose(1, 2).reshape(2, 5, side, side))


def test_istereo_conv_matches_unfold_projection():
    torch.manual_seed(1)
    conv = IStereoConv2d(2, 4, 3, padding=1).double()
    with torch.no_grad():
        conv.pole.normal_()
    x = torch.randn(2, 2, 6, 6, dtype=torch.float64)
    s = inverse_stereographic(_patches(conv, x))
    w = torch.cat([conv.weight.flatten(1), conv.pole[:, None]], 1)
    ref = s @ F.normalize(w, dim=1).T
    torch.testing.assert_close(conv(x), ref.transpose(1, 2).reshape(2, 4, 6, 6))


def test_distance_convs_gradcheck():
    torch.manual_seed(2)
    x = torch.randn(1, 2, 4, 4, dtype=torch.float64, requires_grad=True)
    for conv in (L2Conv2d(2, 3, 3, padding=1), IStereoConv2d(2, 3, 3, padding=1)):
        assert torch.autograd.gradcheck(conv.double(), (x,))


def test_resnet20_shapes_depth_and_kinds():
    for kind in ("linear", "l2", "istereo"):
        for shortcut, extra in (("A", 0), ("B", 2)):
            net = resnet20(kind, shortcut=shortcut)
            assert net(torch.randn(2, 3, 32, 32)).shape == (2, 10)
            convs = [m for m in net.modules() if isinstance(m, (torch.nn.Conv2d, L2Conv2d, IStereoConv2d))]
            sizes = [m.kernel_size if isinstance(m.kernel_size, int) else m.kernel_size[0] for m in convs]
            assert sizes.count(3) == 19  # + the final linear layer = 20 weighted layers
            assert sizes.count(1) == extra  # 1x1 projection shortcuts of stages 2 and 3
            assert all(type(c) is type(conv3x3(kind, 1, 1)) for c in convs)
    linear = sum(p.numel() for p in resnet20("linear").parameters())
    assert 0.26e6 < linear < 0.28e6  # ResNet-20 has about 0.27 M parameters


def test_resnet_bad_names():
    with pytest.raises(ValueError):
        resnet20("l3")
    with pytest.raises(ValueError):
        ResNet("linear", depth=21)
    with pytest.raises(ValueError):
        resnet20("l2", shortcut="C")
    with pytest.raises(ValueError):
        L2Conv2d(3, 4, 3)(torch.randn(1, 2, 5, 5))


def test_resnet_wrong_type_and_wrong_value_are_told_apart():
    with pytest.raises(TypeError, match="kernel_size must be an int, got float"):
        L2Conv2d(3, 4, 3.0)
    with pytest.raises(ValueError, match="kernel_size must be a positive int"):
        L2Conv2d(3, 4, 0)
    with pytest.raises(TypeError, match="padding must be an int"):
        L2Conv2d(3, 4, 3, padding=True)
    with pytest.raises(ValueError, match="padding must be a non-negative int"):
        L2Conv2d(3, 4, 3, padding=-1)
    with pytest.raises(TypeError, match="depth must be an int"):
        ResNet("linear", depth=20.0)


def test_cifar_augment_is_crop_or_flip_of_input():
    from nngeom.metric.resnet import cifar_augment
    x = torch.arange(2 * 3 * 8 * 8, dtype=torch.float32).reshape(2, 3, 8, 8)
    out = cifar_augment(x, padding=0, generator=torch.Generator().manual_seed(0))
    for i in range(2):
        assert torch.equal(out[i], x[i]) or torch.equal(out[i], x[i].flip(-1))
    out = cifar_augment(x, padding=2, generator=torch.Generator().manual_seed(1))
    assert out.shape == x.shape
    with pytest.raises(ValueError):
        cifar_augment(x[0])
