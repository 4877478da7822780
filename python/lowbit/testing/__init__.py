"""Lowbit's test infrastructure, used by python/tests, bench/ and the
conformance report; not part of the user API:

- `ptx_emulator`: runs the generated PTX on the CPU (SIMT lock step);
- `kernel_cases`: low-bit matmul cases (schemes, shapes) and their float64
  references;
- `conformance`: the ONNX backend node tests through Lowbit
  (`python -m lowbit.testing.conformance`);
- `qemu`: runs AArch64 artifacts under qemu-aarch64.
"""
