"""Compile every Triton kernel of cim-emu for a GPU architecture without a GPU (run in its own process).

    python -m tests.cim_emu.crossbar.triton.compile_for_gpu [CAPABILITY ...]    (default: 80 90)

Triton lowers a kernel to PTX and assembles it with the ptxas it ships, all on the CPU; only loading the
binary needs a device. This catches what the interpreter cannot: code that runs under numpy but does not
type-check or lower for a real target. Prints one line per kernel (registers, stack) and exits 1 on the
first failure. Must run without ``TRITON_INTERPRET`` (interpreted kernels do not compile).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile

import triton
import triton.language as tl
from triton.backends.compiler import GPUTarget
from triton.compiler import ASTSource

from cim_emu.crossbar.kernels.triton import column_readout, masked_mvm, philox

_SCALARS = dict(batch="i32", n_rows="i32", n_outputs="i32", n_inputs="i32", n_blocks="i32", block_rows="i32",
                n_columns="i32", n_variance_rows="i32", n_counters="i32", key_0="u32", key_1="i32",
                full_scale="fp32", step="fp32", inverse_unit="fp32")


def _cases():
    for accumulator, pointer in ((tl.float32, "*fp32"), (tl.float64, "*fp64")):
        floats = dict(inputs_ptr=pointer, weights_ptr=pointer, grad_ptr=pointer, out_ptr=pointer, thresholds_ptr="*i32")
        forward = dict(ACC_DTYPE=accumulator, BLOCK_R=masked_mvm._BLOCK_ROWS, BLOCK_J=masked_mvm._BLOCK_OUTPUTS,
                       BLOCK_G=masked_mvm._BLOCK_GROUPS)
        yield masked_mvm._forward_kernel, floats, forward
        yield masked_mvm._grad_input_kernel, floats, forward
        yield masked_mvm._grad_weight_kernel, floats, dict(ACC_DTYPE=accumulator, **masked_mvm._WEIGHT_TILE)
    yield masked_mvm._mask_kernel, dict(thresholds_ptr="*i32", out_ptr="*i8"), dict(
        BLOCK_R=masked_mvm._BLOCK_ROWS, BLOCK_J=masked_mvm._BLOCK_OUTPUTS, BLOCK_G=masked_mvm._BLOCK_GROUPS)
    for currents, variance in (("*fp32", "*bf16"), ("*fp32", "*fp32"), ("*fp64", "*fp64")):
        for rounding in (True, False):
            yield column_readout._readout_kernel, dict(currents_ptr=currents, variance_ptr=variance,
                                                        out_ptr=currents), dict(ROUND=rounding,
                                                                                BLOCK_R=column_readout._BLOCK_ROWS)
    yield column_readout._normals_kernel, dict(out_ptr="*fp64"), dict(BLOCK_R=column_readout._BLOCK_ROWS)
    yield philox._words_kernel, dict(counter_ptr="*i64", out_ptr="*i64"), dict(BLOCK=128)


def _resource_usage(cubin: bytes) -> str:
    tool = os.path.join(os.path.dirname(triton.__file__), "backends", "nvidia", "bin", "cuobjdump")
    if not os.path.exists(tool):
        return "(no cuobjdump)"
    with tempfile.NamedTemporaryFile(suffix=".cubin") as handle:
        handle.write(cubin)
        handle.flush()
        listing = subprocess.run([tool, "--dump-resource-usage", handle.name], capture_output=True, text=True).stdout
    return " ".join(" ".join(line.split()[:2]) for line in listing.splitlines() if "REG:" in line)


def main(capabilities: list[int]) -> int:
    if philox.INTERPRETED:
        print("compile_for_gpu: unset TRITON_INTERPRET (interpreted kernels cannot be compiled)", file=sys.stderr)
        return 2
    for capability in capabilities:
        target = GPUTarget("cuda", capability, 32)
        for kernel, pointers, constants in _cases():
            types = {**_SCALARS, **pointers}
            signature = {name: "constexpr" if name in constants else types[name] for name in kernel.arg_names}
            try:
                compiled = triton.compile(ASTSource(fn=kernel, signature=signature, constexprs=constants),
                                          target=target)
            except Exception as error:  # noqa: BLE001 - report which kernel failed, then fail
                print(f"sm_{capability} {kernel.__name__} {pointers} FAILED: {error}", file=sys.stderr)
                return 1
            print(f"sm_{capability} {kernel.__name__:<20} {_resource_usage(compiled.asm['cubin'])}")
    return 0


if __name__ == "__main__":
    sys.exit(main([int(value) for value in sys.argv[1:]] or [80, 90]))
