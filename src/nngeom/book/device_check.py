"""Finding cross-device mistakes without a GPU: tensors meant for `nngeom.device()` are tracked on the CPU.

On a machine without a GPU every tensor lives on the CPU, so code that mixes a
CUDA model with a tensor created on the CPU runs here and fails only on a GPU.
With ``$NNGEOM_DEVICE_CHECK`` set, `nngeom.device()` returns ``cpu:0`` (the
same memory as ``cpu``, but a distinguishable request) and `DeviceIntentMode`,
a `torch.overrides.TorchFunctionMode`, marks every tensor placed on it (by
``Tensor.to(device)``, ``Module.to(device)`` or a factory's ``device=``) and
every result computed from a marked tensor. An operation that combines a marked
tensor with an unmarked tensor of one or more dimensions (0-dim CPU scalars
mix with CUDA tensors legally), or ``.numpy()`` on a marked tensor, is what
would fail on a GPU: it is recorded with the line of code that did it, in
``$NNGEOM_DEVICE_CHECK`` (a JSON-lines file). ``.cpu()`` and ``.to("cpu")``
give unmarked results, as they would on a GPU. Tensors placed with another
tensor's device (``device=x.device``, ``.to(x.device)``) are *neutral*: right on
either kind of machine, and so are the results computed from them.

This is a model of CUDA placement, not CUDA itself: it finds the usual
mistakes (a mask, an index, a noise tensor or a label tensor made on the CPU
and combined with model outputs), not driver or kernel problems.
"""
from __future__ import annotations

import json
import os
import traceback
import weakref

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

__all__ = ["DeviceIntentMode", "enabled", "install", "INTENDED", "intended_device"]

INTENDED = torch.device("cpu", 0)
_state: dict = {"mode": None, "adds": 0}


class _TensorSet:
    """Tensors by identity (a WeakSet would compare tensors with ``==``), forgetting dead ones."""

    def __init__(self) -> None:
        self._refs: dict[int, weakref.ref] = {}

    def add(self, tensor: torch.Tensor) -> None:
        self._refs[id(tensor)] = weakref.ref(tensor)
        _state["adds"] += 1
        if _state["adds"] % 20000 == 0:
            for key in [k for k, r in self._refs.items() if r() is None]:
                del self._refs[key]

    def discard(self, tensor: torch.Tensor) -> None:
        self._refs.pop(id(tensor), None)

    def __contains__(self, tensor: torch.Tensor) -> bool:
        ref = self._refs.get(id(tensor))
        return ref is not None and ref() is tensor


_marked = _TensorSet()   # on the compute device
_neutral = _TensorSet()  # placed with device=<some tensor's device>: right on either kind of machine
_UNMARKING = {torch.Tensor.cpu}
_INDEXING = {torch.Tensor.__getitem__}  # CPU index tensors are legal on CUDA tensors; the result follows the indexed
_NEUTRAL = {torch.Tensor.__setitem__,  # CPU index tensors are legal on CUDA tensors
            torch.Tensor.__repr__, torch.Tensor.__format__, torch.Tensor.size, torch.Tensor.dim,
            torch.Tensor.item, torch.Tensor.tolist, torch.Tensor.__len__, torch.Tensor.numel}


def enabled() -> bool:
    return bool(os.environ.get("NNGEOM_DEVICE_CHECK"))


def intended_device() -> torch.device:
    return INTENDED


def _is_intended(device) -> bool:
    if device is None or isinstance(device, str) and device == "neutral":
        return False
    device = torch.device(device) if isinstance(device, (str, int)) else device
    return isinstance(device, torch.device) and device.type == "cpu" and device.index == 0


def _target_device(func, args, kwargs):
    """The device an op places its result on: a device, ``"neutral"`` (another tensor's device) or None."""
    if "device" in kwargs and kwargs["device"] is not None:
        device = kwargs["device"]
    elif func is torch.Tensor.to:
        device = next((a for a in args[1:] if isinstance(a, (torch.device, str, torch.Tensor))), None)
        if isinstance(device, torch.Tensor):
            return INTENDED if device in _marked else "neutral"
        if device is None:
            return None
    else:
        return None
    if isinstance(device, str):
        return torch.device(device)  # an explicit "cpu" is the CPU on every machine
    if isinstance(device, torch.device) and device.type == "cpu" and device.index is None:
        return "neutral"  # typically x.device: the CPU here, the GPU there
    return device


def _frames(depth: int = 4) -> list[str]:
    """The innermost ``depth`` frames of our code (not torch's, not this module's), innermost first."""
    found = []
    for frame in reversed(traceback.extract_stack()[:-3]):
        if "device_check" not in frame.filename and "/torch/" not in frame.filename:
            found.append(f"{os.path.basename(frame.filename)}:{frame.lineno}: {(frame.line or '').strip()[:100]}")
            if len(found) == depth:
                break
    return found or ["?"]


def _record(kind: str, func) -> None:
    path = os.environ.get("NNGEOM_DEVICE_CHECK")
    frames = _frames()
    entry = {"problem": kind, "op": getattr(func, "__name__", str(func)), "where": frames[0],
             "called_from": frames[1:], "section": os.environ.get("NNGEOM_SECTION", "")}
    if path and path not in {"1", "on", "true"}:
        with open(path, "a") as handle:
            handle.write(json.dumps(entry) + "\n")


def _mark(value, into: "_TensorSet") -> None:
    if isinstance(value, torch.Tensor):
        into.add(value)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _mark(item, into)


def _tensors(args, kwargs) -> list[torch.Tensor]:
    found = []
    for value in (*args, *kwargs.values()):
        if isinstance(value, torch.Tensor):
            found.append(value)
        elif isinstance(value, (list, tuple)):
            found.extend(v for v in value if isinstance(v, torch.Tensor))
    return found


class DeviceIntentMode(TorchFunctionMode):
    """Marks tensors placed on the intended device and records operations that mix them with CPU tensors."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        if func in _NEUTRAL:
            return func(*args, **kwargs)
        if func in _INDEXING:  # x[i]: legal with any index; on the device of x
            out = func(*args, **kwargs)
            if args[0] in _marked:
                _mark(out, _marked)
            elif args[0] in _neutral:
                _mark(out, _neutral)
            return out
        tensors = _tensors(args, kwargs)
        marked = [t for t in tensors if t in _marked]
        neutral = not marked and any(t in _neutral for t in tensors)
        target = _target_device(func, args, kwargs) if (func is torch.Tensor.to or "device" in kwargs) else None
        if not marked and not neutral and target is None and func not in _UNMARKING:
            return func(*args, **kwargs)  # the fast path: nothing of the compute device is involved
        if marked and not _state.get("moving") and func not in _UNMARKING:
            if func is torch.Tensor.numpy:
                _record(".numpy() on a tensor of the compute device", func)
            elif target is None and any(t not in _marked and t not in _neutral and t.dim() > 0 for t in tensors):
                _record("a CPU tensor combined with a tensor of the compute device", func)
        out = func(*args, **kwargs)
        if func in _UNMARKING:
            return out.view_as(out) if out is args[0] else out  # a CPU copy, as on a GPU
        if target is not None:
            if func is torch.Tensor.to and out is args[0] and not isinstance(out, nn.Parameter):
                out = out.view_as(out)  # a new tensor, as on a GPU: the original keeps its placement
            if _is_intended(target):
                _mark(out, _marked)
            elif target == "neutral":
                _mark(out, _neutral)
            return out
        _mark(out, _marked if marked else _neutral)  # results follow their inputs' placement
        return out


def install() -> None:
    """Enter `DeviceIntentMode` for the rest of the process and mark modules moved to the intended device."""
    if _state["mode"] is not None:
        return
    original_to, original_cpu = nn.Module.to, nn.Module.cpu

    def placed(module: nn.Module, intended: bool) -> None:
        for tensor in list(module.parameters()) + list(module.buffers()):
            if intended:
                _marked.add(tensor)
            else:
                _marked.discard(tensor)
                _neutral.discard(tensor)

    def to(self, *args, **kwargs):
        _state["moving"] = True
        try:
            moved = original_to(self, *args, **kwargs)
        finally:
            _state["moving"] = False
        device = kwargs.get("device", next((a for a in args if isinstance(a, (torch.device, str))), None))
        if device is not None:
            placed(self, _is_intended(device))
        return moved

    def cpu(self):
        _state["moving"] = True
        try:
            moved = original_cpu(self)
        finally:
            _state["moving"] = False
        placed(self, False)
        return moved

    original_new = nn.Parameter.__new__

    def parameter(cls, data=None, requires_grad=True):  # nn.Parameter(t) is a new tensor placed where t is
        made = original_new(cls, data, requires_grad)
        if isinstance(data, torch.Tensor):
            if data in _marked:
                _marked.add(made)
            elif data in _neutral:
                _neutral.add(made)
        return made

    nn.Module.to = to  # type: ignore[method-assign]
    nn.Module.cpu = cpu  # type: ignore[method-assign]
    nn.Parameter.__new__ = staticmethod(parameter)  # type: ignore[method-assign]
    mode = DeviceIntentMode()
    mode.__enter__()
    _state["mode"] = mode
