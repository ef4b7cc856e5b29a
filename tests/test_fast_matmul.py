"""The split-bf16 float32 matmul mode is used only where it keeps float32 accuracy (nngeom.robustness.fast_matmul)."""
import pytest
import torch

from nngeom.robustness import fast_matmul


def rms_error(result, exact):
    return float((result.double() - exact).pow(2).mean().sqrt())


def test_fast_mode_keeps_float32_accuracy_on_an_unseen_product():
    # a shape and distribution other than the calibration's: the verdict must carry over
    g = torch.Generator().manual_seed(5)
    a = torch.rand(300, 3072, generator=g)
    a = a / a.pow(3).sum(1, keepdim=True).pow(1 / 3)
    b = torch.randn(3072, 700, generator=g).abs().pow(2) * torch.randn(3072, 700, generator=g).sign()
    exact = a.double() @ b.double()
    ieee = a @ b
    with fast_matmul.fast_float32_matmul():
        fast = a @ b
    if fast_matmul.split_bf16_available():  # the fast mode ran: another product, as accurate as IEEE float32
        assert not torch.equal(fast, ieee)
        assert rms_error(fast, exact) <= fast_matmul.TOLERANCE * rms_error(ieee, exact)
    else:  # the fallback: exactly IEEE float32, and the calibration says why
        assert torch.equal(fast, ieee) and fast_matmul.calibration()["reason"]
    plain_bf16 = a.bfloat16().float() @ b.bfloat16().float()  # what the check rules out
    assert rms_error(plain_bf16, exact) > 100 * rms_error(ieee, exact)


def test_disabled_block_is_ieee_and_flag_is_restored():
    g = torch.Generator().manual_seed(6)
    a, b = torch.rand(64, 256, generator=g), torch.randn(256, 32, generator=g)
    flag = fast_matmul._precision_flag()
    before = flag.fp32_precision if flag is not None else None
    with fast_matmul.fast_float32_matmul(enabled=False):
        off = a @ b
    assert torch.equal(off, a @ b)
    with pytest.raises(KeyError):
        with fast_matmul.fast_float32_matmul():
            raise KeyError("inside")
    assert (flag.fp32_precision if flag is not None else None) == before


def test_calibration_reports_its_verdict():
    report = fast_matmul.calibration()
    assert isinstance(report["available"], bool)
    if report["available"]:
        assert report["rms_split_bf16"] <= fast_matmul.TOLERANCE * report["rms_ieee"]
        assert report["reason"] == ""
    else:
        assert report["reason"]
