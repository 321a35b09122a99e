"""numpy's rounding inside compiled code: its transcendental loops, its sums, its dot products.

The compiled path must give the same floats as the general (numpy) path, not just close ones: the
pinned trajectories hash every float, and a seed must give one trajectory whether numba is installed
or not. Three things differ between a naive compiled loop and numpy:

* **Transcendental functions.** numpy evaluates ``exp``, ``log``, ``log1p``, ``expm1``, ``tanh``,
  ``sin``, ``cos`` of float64 with its own vectorised code (AVX-512 here), whose last bit differs from
  the C library's on about 5 % of inputs. The kernels call *numpy's own inner loop*: its address is
  read from the ufunc object (the public ``PyUFuncObject`` layout, checked against the ufunc's name
  and type signatures before use) and handed to LLVM as a named symbol, so cached machine code stays
  valid in a new process.
* **Sums.** ``np.add.reduce`` over a row sums pairwise (blocks of eight partial sums, see
  :func:`pairwise_sum`), not left to right.
* **Dot products.** ``np.einsum("nkd,nd->nk", ...)`` accumulates in two lanes of 128-bit vectors,
  unrolled four times (:func:`einsum_dot`).

:func:`self_check` compares each replica with numpy on random inputs when the compiled path is first
used; ``EXACT`` records whether they agreed (they do on x86-64 with numpy 2.x; elsewhere the compiled
path still runs, with floats equal up to rounding).
"""

from __future__ import annotations

import ctypes
from typing import Any

import numpy as np
from llvmlite import binding as llvm
from llvmlite import ir
from numba import types
from numba.core import cgutils
from numba.extending import intrinsic, overload

from slategym.kernels import xp
from slategym.kernels._jit import jit, jit_inline

UNARY = ("exp", "log", "log1p", "expm1", "tanh", "cos", "sin")
"""The float64 ufuncs whose numpy loops the kernels call."""

_HEAD = ctypes.sizeof(ctypes.c_ssize_t) + ctypes.sizeof(ctypes.c_void_p)  # PyObject_HEAD


def ufunc_loop(ufunc: np.ufunc, signature: str = "d->d") -> int:
    """Address of ``ufunc``'s inner loop for ``signature`` (ValueError if the layout is unexpected).

    ``PyUFuncObject`` starts with ``PyObject_HEAD; int nin, nout, nargs, identity;
    PyUFuncGenericFunction *functions; void **data; int ntypes; int reserved1; const char *name;
    const char *types``. The name and the type table are compared with what Python reports before the
    loop pointer is trusted.
    """
    base = id(ufunc)
    ints = (ctypes.c_int * 4).from_address(base + _HEAD)
    functions = ctypes.c_void_p.from_address(base + _HEAD + 16).value
    data = ctypes.c_void_p.from_address(base + _HEAD + 24).value
    ntypes = ctypes.c_int.from_address(base + _HEAD + 32).value
    name = ctypes.c_char_p.from_address(base + _HEAD + 40).value
    types_ptr = ctypes.c_void_p.from_address(base + _HEAD + 48).value
    expected = [np.dtype(c).num for t in ufunc.types for c in t.replace("->", "")]
    if (
        (ints[0], ints[1], ints[2]) != (ufunc.nin, ufunc.nout, ufunc.nargs)
        or name != ufunc.__name__.encode()
        or ntypes != ufunc.ntypes
        or not functions
        or not types_ptr
        or list(ctypes.string_at(types_ptr, ntypes * ufunc.nargs)) != expected
    ):
        raise ValueError(f"unexpected layout of the ufunc object np.{ufunc.__name__}")
    index = ufunc.types.index(signature)
    if data and ctypes.c_void_p.from_address(data + 8 * index).value:
        raise ValueError(f"np.{ufunc.__name__} needs loop data; not supported")
    loop = ctypes.c_void_p.from_address(functions + 8 * index).value
    if not loop:
        raise ValueError(f"np.{ufunc.__name__} has no {signature} loop")
    return int(loop)


def _symbol(name: str) -> str:
    return f"slategym_numpy_{name}_f64"


for _name in UNARY:
    llvm.add_symbol(_symbol(_name), ufunc_loop(getattr(np, _name)))

_I8P = ir.IntType(8).as_pointer()
_INTP = ir.IntType(64)
_LOOP = ir.FunctionType(ir.VoidType(), [_I8P.as_pointer(), _INTP.as_pointer(), _INTP.as_pointer(), _I8P])


def _call_loop(builder: Any, name: str, src: Any, dst: Any, n: Any) -> None:
    """Emit ``loop(args={src, dst}, dims={n}, steps={8, 8}, data=NULL)``."""
    fn = cgutils.get_or_insert_function(builder.module, _LOOP, _symbol(name))
    argv = cgutils.alloca_once(builder, _I8P, size=2)
    dims = cgutils.alloca_once(builder, _INTP)
    steps = cgutils.alloca_once(builder, _INTP, size=2)
    builder.store(builder.bitcast(src, _I8P), argv)
    builder.store(builder.bitcast(dst, _I8P), builder.gep(argv, [ir.Constant(_INTP, 1)]))
    builder.store(n, dims)
    builder.store(ir.Constant(_INTP, 8), steps)
    builder.store(ir.Constant(_INTP, 8), builder.gep(steps, [ir.Constant(_INTP, 1)]))
    builder.call(fn, [argv, dims, steps, ir.Constant(_I8P, None)])


def _scalar_intrinsic(name: str) -> Any:
    @intrinsic
    def call(typingctx: Any, x: Any) -> Any:
        def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
            src = cgutils.alloca_once_value(builder, args[0])
            dst = cgutils.alloca_once(builder, ir.DoubleType())
            _call_loop(builder, name, src, dst, ir.Constant(_INTP, 1))
            return builder.load(dst)

        return types.float64(types.float64), codegen

    return call


def _array_intrinsic(name: str) -> Any:
    @intrinsic
    def call(typingctx: Any, src: Any, dst: Any, n: Any) -> Any:
        def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
            a = context.make_array(signature.args[0])(context, builder, args[0])
            b = context.make_array(signature.args[1])(context, builder, args[1])
            _call_loop(builder, name, a.data, b.data, args[2])
            return context.get_dummy_value()

        return types.void(src, dst, types.intp), codegen

    return call


_SCALAR = {name: _scalar_intrinsic(name) for name in UNARY}
ARRAY = {name: _array_intrinsic(name) for name in UNARY}
"""``ARRAY["exp"](src, dst, n)``: numpy's exp of the first ``n`` entries of the contiguous float64
array ``src`` into ``dst`` (which may be ``src``), inside compiled code."""

vexp = ARRAY["exp"]
vlog1p = ARRAY["log1p"]
vtanh = ARRAY["tanh"]
vcos = ARRAY["cos"]
vsin = ARRAY["sin"]


def _overload_scalar(fn: Any, name: str) -> None:
    call = _SCALAR[name]

    @overload(fn, jit_options={"error_model": "numpy"})
    # no annotations: numba compares the implementation's signature with the function's
    def impl(x):
        if isinstance(x, (types.Float, types.Integer, types.Boolean)):
            return lambda x: call(np.float64(x))
        return None


for _name in UNARY:
    _overload_scalar(getattr(xp, _name), _name)


@overload(xp.sigmoid, jit_options={"error_model": "numpy"})
def _sigmoid(x):
    tanh = _SCALAR["tanh"]
    if isinstance(x, (types.Float, types.Integer, types.Boolean)):
        return lambda x: 0.5 * (1.0 + tanh(0.5 * np.float64(x)))
    return None


@jit
def vsigmoid(x: np.ndarray, out: np.ndarray, n: int) -> None:
    """``xp.sigmoid`` of the first ``n`` entries of ``x`` into ``out`` (which may be ``x``), with one
    call of numpy's tanh loop for all of them."""
    for i in range(n):
        out[i] = 0.5 * x[i]
    vtanh(out, out, n)
    for i in range(n):
        out[i] = 0.5 * (1.0 + out[i])


@intrinsic
def fma(typingctx: Any, a: Any, b: Any, c: Any) -> Any:
    """``a * b + c`` rounded once (``llvm.fma.f64``)."""

    def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
        f64 = ir.DoubleType()
        fn = cgutils.get_or_insert_function(
            builder.module, ir.FunctionType(f64, [f64, f64, f64]), "llvm.fma.f64"
        )
        return builder.call(fn, args)

    return types.float64(types.float64, types.float64, types.float64), codegen


def _stack_array_intrinsic(dtype: Any) -> Any:
    @intrinsic(prefer_literal=True)
    def call(typingctx: Any, size: Any) -> Any:
        """A 1-D ``dtype`` array of the literal length ``size`` on the stack of the calling
        function: no allocation and no reference count, so kernels compiled without numba's
        runtime (``_nrt=False``) can use it. It must not outlive the call."""
        if not isinstance(size, types.IntegerLiteral):
            return None
        n = size.literal_value
        array_type = types.Array(dtype, 1, "C")

        def codegen(context: Any, builder: Any, signature: Any, args: Any) -> Any:
            item = context.get_data_type(dtype)
            data = cgutils.alloca_once(builder, item, size=n)
            array = context.make_array(array_type)(context, builder)
            itemsize = context.get_constant(types.intp, context.get_abi_sizeof(item))
            context.populate_array(
                array, data=data, shape=[context.get_constant(types.intp, n)],
                strides=[itemsize], itemsize=itemsize, meminfo=None,
            )  # fmt: skip
            return array._getvalue()

        return array_type(size), codegen

    return call


_stack_f64 = _stack_array_intrinsic(types.float64)
_stack_i64 = _stack_array_intrinsic(types.int64)


@jit_inline
def _pairwise_block(a: np.ndarray, start: int, n: int, stride: int) -> float:
    """numpy's pairwise sum of at most 128 terms."""
    if n < 8:
        res = -0.0
        for i in range(n):
            res += a[start + i * stride]
        return res
    r0 = a[start]
    r1 = a[start + stride]
    r2 = a[start + 2 * stride]
    r3 = a[start + 3 * stride]
    r4 = a[start + 4 * stride]
    r5 = a[start + 5 * stride]
    r6 = a[start + 6 * stride]
    r7 = a[start + 7 * stride]
    i = 8
    last = n - n % 8
    while i < last:
        p = start + i * stride
        r0 += a[p]
        r1 += a[p + stride]
        r2 += a[p + 2 * stride]
        r3 += a[p + 3 * stride]
        r4 += a[p + 4 * stride]
        r5 += a[p + 5 * stride]
        r6 += a[p + 6 * stride]
        r7 += a[p + 7 * stride]
        i += 8
    res = ((r0 + r1) + (r2 + r3)) + ((r4 + r5) + (r6 + r7))
    while i < n:
        res += a[start + i * stride]
        i += 1
    return res


@jit_inline
def pairwise_sum(a: np.ndarray, start: int, n: int, stride: int) -> float:
    """``np.add.reduce`` of ``a[start], a[start + stride], ...`` (``n`` terms): numpy's pairwise sum
    (eight partial sums over blocks of up to 128 terms; longer runs split in halves, the first half
    a multiple of 8). Inlined where it is called (the sums of a slate are short); longer runs
    call :func:`_pairwise_long`."""
    if n <= 128:
        return _pairwise_block(a, start, n, stride)
    return _pairwise_long(a, start, n, stride)


@jit
def _pairwise_long(a: np.ndarray, start: int, n: int, stride: int) -> float:
    """:func:`pairwise_sum` of more than 128 terms. The halving is unrolled with a stack (cached
    recursive kernels crash numba) held on the call's own stack, so that it allocates nothing
    (kernels without numba's runtime call it); 64 pending segments cover any ``n`` below 2**37."""
    seg = _stack_i64(192)  # (start, n, combine?) of the pending segments
    vals = _stack_f64(64)
    top, nv = 1, 0
    seg[0], seg[1], seg[2] = start, n, 0
    while top > 0:
        top -= 1
        s, k, combine = seg[3 * top], seg[3 * top + 1], seg[3 * top + 2]
        if combine:
            vals[nv - 2] = vals[nv - 2] + vals[nv - 1]
            nv -= 1
        elif k <= 128:
            vals[nv] = _pairwise_block(a, s, k, stride)
            nv += 1
        else:
            half = k // 2
            half -= half % 8
            seg[3 * top], seg[3 * top + 1], seg[3 * top + 2] = s, k, 1
            seg[3 * top + 3], seg[3 * top + 4], seg[3 * top + 5] = s + half * stride, k - half, 0
            seg[3 * top + 6], seg[3 * top + 7], seg[3 * top + 8] = s, half, 0
            top += 3
    return vals[0]


@jit_inline
def einsum_dot(a: np.ndarray, ra: int, b: np.ndarray, rb: int, n: int) -> float:
    """``np.einsum("d,d->", a[ra, :n], b[rb, :n])`` as numpy computes it (two lanes, unrolled by
    four, a multiply then an add; then ``0 + (lane 0 + lane 1)``). Rows are indexed, not sliced:
    numba counts the references of every array view atomically, which costs more than this sum."""
    v0 = 0.0
    v1 = 0.0
    i = 0
    while n - i >= 8:
        v0 = v0 + a[ra, i + 6] * b[rb, i + 6]
        v1 = v1 + a[ra, i + 7] * b[rb, i + 7]
        v0 = v0 + a[ra, i + 4] * b[rb, i + 4]
        v1 = v1 + a[ra, i + 5] * b[rb, i + 5]
        v0 = v0 + a[ra, i + 2] * b[rb, i + 2]
        v1 = v1 + a[ra, i + 3] * b[rb, i + 3]
        v0 = v0 + a[ra, i] * b[rb, i]
        v1 = v1 + a[ra, i + 1] * b[rb, i + 1]
        i += 8
    while i < n:
        v0 = v0 + a[ra, i] * b[rb, i]
        if i + 1 < n:
            v1 = v1 + a[ra, i + 1] * b[rb, i + 1]
        else:
            v1 = v1 + 0.0
        i += 2
    return 0.0 + (v0 + v1)


@jit
def _reduce_rows(x: np.ndarray, out: np.ndarray) -> None:
    for r in range(x.shape[0]):
        out[r] = pairwise_sum(x[r], 0, x.shape[1], 1)


@jit
def _dot_rows(a: np.ndarray, b: np.ndarray, out: np.ndarray) -> None:
    for r in range(a.shape[0]):
        out[r] = einsum_dot(a, r, b, r, a.shape[1])


@jit
def _unary_rows(x: np.ndarray, out: np.ndarray) -> None:
    for i in range(x.shape[0]):
        out[i, 0] = xp.exp(x[i])
        out[i, 1] = xp.log1p(-abs(x[i]) / (1.0 + abs(x[i])))
        out[i, 2] = xp.tanh(x[i])
        out[i, 3] = xp.expm1(x[i])
        out[i, 4] = xp.log(abs(x[i]) + 1e-3)
        out[i, 5] = xp.cos(x[i])
        out[i, 6] = xp.sin(x[i])
        out[i, 7] = xp.sigmoid(x[i])
    vexp(x, out[:, 8].copy(), x.shape[0])


def self_check(rows: int = 512) -> dict[str, bool]:
    """Compare every replica with numpy on random inputs; True where bit for bit equal."""
    rng = np.random.default_rng(12345)
    out: dict[str, bool] = {}
    x = rng.normal(0.0, 4.0, rows)
    got = np.empty((rows, 9))
    _unary_rows(x, got)
    a = np.abs(x)
    want = [np.exp(x), np.log1p(-a / (1.0 + a)), np.tanh(x), np.expm1(x), np.log(a + 1e-3),
            np.cos(x), np.sin(x), 0.5 * (1.0 + np.tanh(0.5 * x))]  # fmt: skip
    out["transcendental"] = all(np.array_equal(got[:, j], w) for j, w in enumerate(want))
    ok = True
    for width in (1, 2, 3, 7, 8, 9, 11, 17, 64, 101, 130, 300, 1000, 4099):
        m = rng.normal(size=(16, width)) * np.exp(rng.normal(0.0, 3.0, (16, width)))
        s = np.empty(16)
        _reduce_rows(m, s)
        ok &= np.array_equal(s, np.add.reduce(m, axis=1))
    out["sum"] = bool(ok)
    ok = True
    for d in (1, 2, 3, 5, 8, 9, 16, 20, 33):
        u, v = rng.normal(size=(16, d)), rng.normal(size=(16, d))
        s = np.empty(16)
        _dot_rows(u, v, s)
        ok &= np.array_equal(s, np.einsum("nd,nd->n", u, v))
    out["dot"] = bool(ok)
    return out
